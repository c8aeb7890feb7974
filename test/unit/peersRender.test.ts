/**
 * bench/peers/render.ts against the program itself: index.ts runs under Pulumi mocks with
 * the dev e2e's config, and every file it would write (each RemoteFile: path, content,
 * mode, owner) must be what the peers' renderer makes, byte for byte; so must the
 * package list, the units, the database and broker accounts, and the scripts the dev
 * stack builds with exported functions (release build, collectstatic, migrate, gate).
 *
 * index.ts is loaded with Node's own loader (native-import.cjs), as program.test.ts does.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { T } from "../helpers/resourceTypes.ts";
import { DEV_ROLES, devStackConfig, fleetdemoSettings, renderPeerStack, type PeerStack } from "../../bench/peers/render.ts";

const nativeImport = createRequire(import.meta.url)("./native-import.cjs") as (url: string) => Promise<Record<string, unknown>>;

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const HOST = "fleet-e2e";
const ADDRESS = "198.18.0.10";

interface Registered { readonly type: string; readonly name: string; readonly inputs: Record<string, unknown> }

function plain(v: unknown): unknown {
  if (typeof v === "object" && v !== null && SECRET_KEY in v) return plain((v as unknown as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}


let dir: string;
let repo: string;
let commit: string;
let resources: Registered[];
let stack: PeerStack;

/** Runs index.ts under mocks with the dev e2e's config (workers as given); returns what it registered. */
async function runProgram(workers: number): Promise<Registered[]> {
  const seen: Registered[] = [];
  await pulumi.runtime.setMocks({
    newResource(args) {
      seen.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state = args.type === T.secret ? { ...args.inputs, value: `${args.name}-value` }
        : args.type === T.probe ? { ...args.inputs, value: fleetdemoSettings() } : args.inputs;
      return { id: `${args.name}_id`, state };
    },
    call: (args) => args.inputs,
  }, "django-fleet", "peers");
  const raw = devStackConfig({ hostName: HOST, workers, repo });
  const hosts = JSON.parse(raw["django-fleet:hosts"]!) as Array<Record<string, unknown>>;
  // The release is pinned so the program reads no host: the renderer takes it as an input.
  raw["django-fleet:hosts"] = JSON.stringify(hosts.map((h) => ({ ...h, os: "debian13" })));
  raw["django-fleet:inventoryFile"] = join(dir, "hosts.json");
  pulumi.runtime.setAllConfig(raw, []);
  const module = await nativeImport(new URL(`../../index.ts?peers=${workers}`, import.meta.url).href);
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

const all = (type: string) => resources.filter((r) => r.type === type);
const one = (type: string, name: string) => {
  const hits = resources.filter((r) => r.type === type && r.name === name);
  if (hits.length !== 1) throw new Error(`expected one ${type} ${name}, found ${hits.length}`);
  return hits[0]!;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "fleet-peers-"));
  repo = join(dir, "fleetdemo.git");
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
  execFileSync("git", ["init", "-q", "-b", "main", repo]);
  writeFileSync(join(repo, "requirements.txt"), "Django==5.2.19\n");
  execFileSync("git", ["-C", repo, "add", "requirements.txt"], { env });
  execFileSync("git", ["-C", repo, "commit", "-q", "-m", "first"], { env });
  commit = execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  writeFileSync(join(dir, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
  writeFileSync(join(dir, "hosts.json"), JSON.stringify({
    privateKeyPath: join(dir, "id_ed25519"), hosts: [{ name: HOST, address: ADDRESS, user: "root", hostKey: HOST_KEY }],
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
    const program = all(T.file).map((r) => {
      const i = plain(r.inputs) as Record<string, string>;
      return { path: i.path, mode: i.mode, owner: i.owner, group: i.group, content: i.content };
    }).sort((a, b) => a.path.localeCompare(b.path));
    const rendered = stack.files.map((f) => ({ path: f.path, mode: f.mode, owner: f.owner, group: f.group, content: f.content }))
      .sort((a, b) => a.path.localeCompare(b.path));
    expect(program).toHaveLength(16);
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
    expect(account.create).toContain(`add_vhost ${step.kind === "brokerAccount" && step.vhost}`);
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
