/**
 * bench/peers/render.ts against the program itself: index.ts runs under Pulumi mocks with
 * the dev e2e's config, and every file it would write (each RemoteFile: path, content,
 * mode, owner) must be what the peers' renderer makes, byte for byte; so must the
 * package list, the units, the database and broker accounts, and the scripts the dev
 * stack builds with exported functions (release build, collectstatic, migrate, gate).
 *
 * index.ts is loaded with Node's own loader (native-import.cjs), as program.test.ts does.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { T } from "../helpers/resourceTypes.ts";
import { plain, type Registered } from "../helpers/registered.ts";
import { requirementsRepo } from "../helpers/requirementsRepo.ts";
import type { PeerMedia } from "../../bench/peers/inputs.ts";
import { renderPeerFleet, renderPeerStack } from "../../bench/peers/render.ts";
import { DEV_ROLES, devStackConfig, fleetdemoSettings, fleetStackConfig } from "../../bench/peers/sampleApp.ts";
import type { PeerFleet, PeerStack } from "../../bench/peers/types.ts";
import type { Role } from "../../config/schema.ts";

const nativeImport = createRequire(import.meta.url)("./native-import.cjs") as (url: string) => Promise<Record<string, unknown>>;

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const HOST = "fleet-e2e";
const ADDRESS = "198.18.0.10";
/** Part 4's shape: a core host with every role but app, and app hosts. */
const FLEET = [
  { name: "core", address: "198.18.0.20", hostKey: HOST_KEY, roles: ["loadBalancer", "worker", "beat", "db", "broker", "logging"] as Role[] },
  { name: "app1", address: "198.18.0.21", hostKey: HOST_KEY, roles: ["app"] as Role[] },
  { name: "app2", address: "198.18.0.22", hostKey: HOST_KEY, roles: ["app"] as Role[] },
];


/**
 * What the logs TLS probes print (services/rsyslog/logTls.ts): requests and certificates
 * made on the hosts, so no renderer can know them.
 */
const probedPem = (name: string): string | undefined => {
  const pem = (kind: string) => `-----BEGIN ${kind}-----\n${Buffer.from(name).toString("base64")}\n-----END ${kind}-----\n`;
  if (/^logging-csr-/.test(name)) return pem("CERTIFICATE REQUEST");
  if (/^logging-(ca|server-cert|issue-.+)$/.test(name)) return pem("CERTIFICATE");
  return undefined;
};

/**
 * The files whose content a host made (the logs CA certificate and the host's own
 * certificate, from the TLS probes): the peers do not make them yet (bench/peers/README.md),
 * so they are compared apart, by path only.
 */
const HOST_MADE = ["/etc/fleet-log-tls/ca.crt", "/etc/fleet-log-tls/host.crt"];
const renderable = (r: Registered) => !HOST_MADE.includes(plain(r.inputs.path) as string);

let dir: string;
let repo: string;
let commit: string;
let resources: Registered[];
let stack: PeerStack;

/** Runs index.ts under mocks with a raw stack config; returns what it registered. */
async function runConfig(raw: Record<string, string>, secretKeys: string[], tag: string): Promise<Registered[]> {
  const seen: Registered[] = [];
  await pulumi.runtime.setMocks({
    newResource(args) {
      seen.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state = args.type === T.secret ? { ...args.inputs, value: `${args.name}-value` }
        : args.type === T.probe ? { ...args.inputs, value: probedPem(args.name) ?? fleetdemoSettings() } : args.inputs;
      return { id: `${args.name}_id`, state };
    },
    call: (args) => args.inputs,
  }, "django-fleet", "peers");
  const hosts = JSON.parse(raw["django-fleet:hosts"]!) as Array<Record<string, unknown>>;
  // The release is pinned so the program reads no host: the renderer takes it as an input.
  raw["django-fleet:hosts"] = JSON.stringify(hosts.map((h) => ({ ...h, os: "debian13" })));
  raw["django-fleet:inventoryFile"] = join(dir, "hosts.json");
  pulumi.runtime.setAllConfig(raw, secretKeys);
  const module = await nativeImport(new URL(`../../index.ts?peers=${tag}`, import.meta.url).href);
  await Promise.all(Object.values(module).map((x) => new Promise((res) => {
    pulumi.output(x as pulumi.Input<string>).apply((v) => { res(v); return v; });
  })));
  let last = -1;
  while (last !== seen.length) {
    last = seen.length;
    await new Promise((r) => setTimeout(r, 250));
  }
  return seen;
}

/** Runs index.ts under mocks with the dev e2e's config (workers as given). */
function runProgram(workers: number): Promise<Registered[]> {
  return runConfig(devStackConfig({ hostName: HOST, workers, repo }), [], `dev-${workers}`);
}

const all = (type: string) => resources.filter((r) => r.type === type);
const one = (type: string, name: string) => {
  const hits = resources.filter((r) => r.type === type && r.name === name);
  if (hits.length !== 1) throw new Error(`expected one ${type} ${name}, found ${hits.length}`);
  return hits[0]!;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-peers-"));
  repo = join(dir, "fleetdemo.git");
  commit = requirementsRepo(repo);
  writeFileSync(join(dir, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
  writeFileSync(join(dir, "hosts.json"), JSON.stringify({
    privateKeyPath: join(dir, "id_ed25519"),
    hosts: [HOST, ...FLEET.map((h) => h.name)].map((name, n) => ({ name, address: n === 0 ? ADDRESS : FLEET[n - 1]!.address, user: "root", hostKey: HOST_KEY })),
  }));
  resources = await runProgram(2);
  stack = renderPeerStack({
    host: { name: HOST, address: ADDRESS, hostKey: HOST_KEY }, commit, repo, privateKeyPath: join(dir, "id_ed25519"),
    secrets: {
      djangoSecretKey: "fleetdemo-django-secret-key-value",
      dbPassword: "fleetdemo-db-password-value",
      brokerPassword: "fleetdemo-broker-password-value",
    },
  });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the peers' rendering is the dev stack's", () => {
  it("the program registered the dev stack", () => {
    expect(all(T.file).length).toBeGreaterThan(10);
    expect(stack.host.roles).toEqual(new Set(DEV_ROLES));
  });

  it("every file the dev stack writes, byte for byte, with its mode and owner, and no other", () => {
    expect(all(T.file).filter((r) => !renderable(r)).map((r) => plain(r.inputs.path)).sort()).toEqual(HOST_MADE);
    const program = all(T.file).filter(renderable).map((r) => {
      const i = plain(r.inputs) as Record<string, string>;
      return { path: i.path, mode: i.mode, owner: i.owner, group: i.group, content: i.content };
    }).sort((a, b) => a.path.localeCompare(b.path));
    const rendered = stack.files.map((f) => ({ path: f.path, mode: f.mode, owner: f.owner, group: f.group, content: f.content }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(program).toHaveLength(17);
    expect(rendered.map((f) => f.path)).toEqual(program.map((f) => f.path));
    for (let n = 0; n < program.length; n++) expect(rendered[n], program[n]!.path).toEqual(program[n]);
  });

  it("only the env file is secret, as in the dev stack", () => {
    const secret = all(T.file).filter((r) => typeof r.inputs.content === "object").map((r) => plain(r.inputs.path));
    expect(stack.files.filter((f) => f.secret).map((f) => f.path)).toEqual(secret);
  });

  it("the same packages", () => {
    const packages = one(T.script, `${HOST}-packages`);
    expect(stack.packages.join(" ")).toBe((plain(packages.inputs.triggers) as Record<string, string>).packages);
    const step = stack.steps.find((s) => s.kind === "packages")!;
    expect(step.kind === "packages" && step.script).toBe(plain(packages.inputs.create));
  });

  it("the same units, each kept running with the same readiness check", () => {
    const units = all(T.service).map((r) => plain(r.inputs) as { unit: string; readyCheck?: unknown });
    const steps = stack.steps.flatMap((s) => s.kind === "service" ? [s] : []);
    expect(steps.map((s) => s.unit).sort()).toEqual(units.map((u) => u.unit).sort());
    for (const u of units) expect(steps.find((s) => s.unit === u.unit)!.readyCheck, u.unit).toEqual(u.readyCheck);
  });

  it("the same database and role, with the generated password", () => {
    const db = plain(one(T.database, "db-database-fleetdemo").inputs) as Record<string, string>;
    const step = stack.steps.find((s) => s.kind === "database")!;
    expect(step).toMatchObject({ database: db.database, owner: db.owner, password: db.password });
  });

  it("the same broker vhost and user, with the generated password", () => {
    const account = plain(one(T.script, "broker-account-fleetdemo").inputs) as { create: string; secrets: Record<string, string> };
    const step = stack.steps.find((s) => s.kind === "brokerAccount")!;
    expect(step.kind === "brokerAccount" && step.password).toBe(account.secrets.BROKER_PASSWORD);
    expect(account.create).toContain(`"vhosts":[{"name":"${step.kind === "brokerAccount" && step.vhost}"}]`);
  });

  it("the same release build, collectstatic and migrate scripts", () => {
    const byId = (id: string) => stack.steps.find((s) => s.id === id)!;
    const release = byId("release");
    expect(release.kind === "release" && release.script).toBe(plain(one(T.script, `${HOST}-fleetdemo-build`).inputs.create));
    expect(release.kind === "release" && release.check).toBe(plain(one(T.script, `${HOST}-fleetdemo-build`).inputs.check));
    const collect = byId("collectstatic");
    expect(collect.kind === "manage" && collect.script).toBe(plain(one(T.script, `${HOST}-fleetdemo-collectstatic`).inputs.create));
    const migrate = byId("migrate");
    expect(migrate.kind === "manage" && migrate.script).toBe(plain(one(T.script, "fleetdemo-migrate").inputs.create));
  });

  it("the same health gate as the release switch", () => {
    const sw = plain(one(T.gate, `${HOST}-fleetdemo-release`).inputs) as { health: Record<string, unknown>; unit: string; keepReleases: number; release: string };
    const gate = stack.steps.find((s) => s.kind === "healthGate")!;
    expect(gate).toMatchObject({ ...sw.health, unit: sw.unit, keepReleases: sw.keepReleases });
    expect(stack.app.releaseId).toBe(sw.release);
  });

  it("the one-line change (workers 2 -> 3) changes the gunicorn config alone", async () => {
    const byDefault = renderPeerStack({
      host: { name: HOST, address: ADDRESS, hostKey: HOST_KEY }, commit, repo,
      secrets: { djangoSecretKey: "a", dbPassword: "b", brokerPassword: "c" },
    });
    const two = renderPeerStack({
      host: { name: HOST, address: ADDRESS, hostKey: HOST_KEY }, commit, repo, workers: 2,
      secrets: { djangoSecretKey: "a", dbPassword: "b", brokerPassword: "c" },
    });
    const withThree = renderPeerStack({
      host: { name: HOST, address: ADDRESS, hostKey: HOST_KEY }, commit, repo, workers: 3,
      secrets: { djangoSecretKey: "a", dbPassword: "b", brokerPassword: "c" },
    });
    expect(byDefault.files).toEqual(two.files);
    const changed = withThree.files.filter((f, n) => f.content !== two.files[n]!.content).map((f) => f.id);
    expect(changed).toEqual(["gunicorn-conf"]);
    // And the program agrees.
    resources = await runProgram(3);
    const conf = plain(one(T.file, `${HOST}-fleetdemo-gunicorn-conf`).inputs) as { content: string };
    expect(withThree.files.find((f) => f.id === "gunicorn-conf")!.content).toBe(conf.content);
  }, 120_000);

  it("every file a step writes is rendered, and every rendered file is written by a step", () => {
    const written = stack.steps.flatMap((s) => s.kind === "files" ? s.files : []);
    expect([...written].sort()).toEqual(stack.files.map((f) => f.id).sort());
    const ids = new Set([...stack.files.map((f) => f.id), ...stack.steps.map((s) => s.id)]);
    for (const s of stack.steps) {
      const triggers = s.kind === "service" ? [...s.restartOn, ...s.reloadOn] : s.kind === "manage" ? s.rerunOn : [];
      for (const t of triggers) expect(ids.has(t), `${s.id} waits for ${t}`).toBe(true);
    }
  });

  it("refuses what it does not cover", () => {
    expect(() => renderPeerStack({
      host: { name: HOST, address: ADDRESS, hostKey: HOST_KEY }, commit: "main",
      secrets: { djangoSecretKey: "a", dbPassword: "b", brokerPassword: "c" },
    })).toThrow(/40 hex/);
    expect(() => renderPeerStack({
      host: { name: HOST, address: ADDRESS, hostKey: HOST_KEY }, commit,
      settings: { ...fleetdemoSettings(), staticRoot: `/srv/fleetdemo/releases/${commit.slice(0, 12)}/source/static` },
      secrets: { djangoSecretKey: "a", dbPassword: "b", brokerPassword: "c" },
    })).toThrow(/inside the checkout/);
  });
});

describe("the peers' rendering of a core host and app hosts (part 4) is the program's", () => {
  const secrets = { djangoSecretKey: "fleetdemo-django-secret-key-value", dbPassword: "fleetdemo-db-password-value", brokerPassword: "fleetdemo-broker-password-value" };
  let program: Registered[];
  let fleet: PeerFleet;
  const CA = "-----BEGIN CERTIFICATE-----\nnot a real certificate\n-----END CERTIFICATE-----\n";
  beforeAll(async () => {
    writeFileSync(join(dir, "ca.pem"), CA);
    const media: PeerMedia = {
      target: { endpoint: "https://198.18.0.1:9000", bucket: "fleet-media", pathStyle: true, caFile: join(dir, "ca.pem"), accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s3-secret-key" },
      caPem: CA,
    };
    program = await runConfig(fleetStackConfig({ hosts: FLEET, repo, media }), ["django-fleet:media"], "fleet");
    fleet = renderPeerFleet({ hosts: FLEET, commit, repo, secrets, media, stackName: "peers", privateKeyPath: join(dir, "id_ed25519") });
  }, 120_000);

  /** Where a registered resource runs: its connection's address, as a host name. */
  const hostOf = (r: Registered) => {
    const address = (plain(r.inputs.connection) as { host: string }).host;
    return FLEET.find((h) => h.address === address)!.name;
  };

  it("every file on every host, byte for byte, with its mode and owner, and no other", () => {
    for (const st of fleet.stacks) {
      expect(program.filter((r) => r.type === T.file && hostOf(r) === st.host.name && !renderable(r)).map((r) => plain(r.inputs.path)).sort(), st.host.name).toEqual(HOST_MADE);
    }
    const files = program.filter((r) => r.type === T.file && renderable(r));
    expect(files.length).toBeGreaterThan(25);
    for (const st of fleet.stacks) {
      const want = files.filter((r) => hostOf(r) === st.host.name).map((r) => {
        const i = plain(r.inputs) as Record<string, string>;
        return { path: i.path, mode: i.mode, owner: i.owner, group: i.group, content: i.content };
      }).sort((a, b) => a.path.localeCompare(b.path));
      const got = st.files.map((f) => ({ path: f.path, mode: f.mode, owner: f.owner, group: f.group, content: f.content }))
        .sort((a, b) => a.path.localeCompare(b.path));
      expect(got.map((f) => f.path), st.host.name).toEqual(want.map((f) => f.path));
      for (let n = 0; n < want.length; n++) expect(got[n], `${st.host.name} ${want[n]!.path}`).toEqual(want[n]);
    }
    // The env file carries the object store's keys; the app hosts' differ from the core's (addresses).
    const env = (h: string) => fleet.stacks.find((x) => x.host.name === h)!.files.find((f) => f.id === "env")!.content;
    expect(env("app1")).toContain("s3-secret-key");
    expect(env("app1")).not.toBe(env("core"));
  });

  it("the same units on each host, with the same readiness checks, and the same packages", () => {
    for (const st of fleet.stacks) {
      const units = program.filter((r) => r.type === T.service && hostOf(r) === st.host.name).map((r) => plain(r.inputs) as { unit: string; readyCheck?: unknown });
      const steps = st.steps.flatMap((x) => x.kind === "service" ? [x] : []);
      expect(steps.map((x) => x.unit).sort(), st.host.name).toEqual(units.map((u) => u.unit).sort());
      for (const u of units) expect(steps.find((x) => x.unit === u.unit)!.readyCheck, `${st.host.name} ${u.unit}`).toEqual(u.readyCheck);
      const packages = program.find((r) => r.type === T.script && r.name === `${st.host.name}-packages`)!;
      expect(st.packages.join(" "), st.host.name).toBe((plain(packages.inputs.triggers) as Record<string, string>).packages);
    }
  });

  it("migrate once, on the first app host; a gate on each app host; the accounts on the core", () => {
    const where = (kind: string, id?: string) => fleet.stacks.filter((st) => st.steps.some((x) => x.kind === kind && (!id || x.id === id))).map((st) => st.host.name);
    expect(where("manage", "migrate")).toEqual([hostOf(program.find((r) => r.name === "fleetdemo-migrate")!)]);
    expect(where("manage", "migrate")).toEqual(["app1"]);
    expect(where("healthGate")).toEqual(program.filter((r) => r.type === T.gate).map(hostOf));
    expect(where("release")).toEqual(["core", "app1", "app2"]);
    expect(where("database")).toEqual(["core"]);
    expect(where("brokerAccount")).toEqual(["core"]);
    for (const st of fleet.stacks.filter((x) => x.host.name !== "core")) {
      const gate = st.steps.find((x) => x.kind === "healthGate")!;
      const sw = plain(program.find((r) => r.type === T.gate && hostOf(r) === st.host.name)!.inputs) as { health: Record<string, unknown> };
      expect(gate).toMatchObject(sw.health);
    }
  });

  it("runs the plan's waves: every host's baseline and services side by side, app1 (it migrates), the other app hosts, then the core's code, Celery and nginx", () => {
    expect(fleet.waves.map((w) => w.map((st) => st.host.name))).toEqual([["core", "app1", "app2"], ["app1"], ["app2"], ["core"]]);
    const ids = (w: number, h: number) => fleet.waves[w]![h]!.steps.map((x) => x.id);
    expect(ids(0, 0)).toContain("database");
    expect(ids(0, 0)).not.toContain("release");
    expect(ids(1, 0)).toEqual(expect.arrayContaining(["release", "migrate", "gunicorn", "healthGate"]));
    expect(ids(2, 0)).toEqual(expect.arrayContaining(["release", "gunicorn", "healthGate"]));
    expect(ids(2, 0)).not.toContain("migrate");
    expect(ids(3, 0)).toEqual(expect.arrayContaining(["release", "celery-worker", "celery-beat", "nginx"]));
    // Every step of every host runs exactly once.
    for (const st of fleet.stacks) {
      const run = fleet.waves.flatMap((w) => w.filter((x) => x.host.name === st.host.name).flatMap((x) => x.steps.map((y) => y.id)));
      expect(run, st.host.name).toEqual(st.steps.map((x) => x.id));
    }
    // A step is restarted or re-run only by what ran in its own session.
    for (const wave of fleet.waves) {
      for (const st of wave) {
        const ids = new Set([...st.steps.flatMap((x) => x.kind === "files" ? x.files : []), ...st.steps.map((x) => x.id)]);
        for (const x of st.steps) {
          const triggers = x.kind === "service" ? [...x.restartOn, ...x.reloadOn] : x.kind === "manage" ? x.rerunOn : [];
          for (const t of triggers) expect(ids.has(t), `${st.host.name}: ${x.id} waits for ${t}`).toBe(true);
        }
      }
    }
    // And one host is one run.
    expect(renderPeerFleet({ hosts: [{ name: HOST, address: ADDRESS, hostKey: HOST_KEY, roles: [...DEV_ROLES] }], commit, repo, secrets }).waves).toHaveLength(1);
  });

  it("refuses a media CA it is not given", () => {
    expect(() => renderPeerFleet({
      hosts: FLEET, commit, repo, secrets,
      media: { target: { endpoint: "https://198.18.0.1:9000", bucket: "fleet-media", caFile: "/x.pem", accessKeyId: "a", secretAccessKey: "b" } },
    })).toThrow(/caPem/);
  });
});
