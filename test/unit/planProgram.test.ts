/**
 * The plan is the program's: index.ts runs under Pulumi mocks with fleets the peers do not
 * cover (every role on its own host with a replica, memcached, backups and private CAs;
 * two apps with MariaDB, a replica and each app's Redis), and what it registers on each
 * host must be what plan/fleetPlan.ts says: the same files of ours at the planned paths
 * and no others of those kinds, listening where planned, migrations on the planned host,
 * static copies where planned.
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
import { planOf, target } from "../helpers/planFleet.ts";
import type { FleetPlan } from "../../plan/fleetPlan.ts";
import { unitFilePath } from "../../plan/files.ts";
import { renderRabbitmqConf } from "../../services/rabbitmq/rabbitmq.ts";
import { redisInstancePaths } from "../../services/redis/redis.ts";

const nativeImport = createRequire(import.meta.url)("./native-import.cjs") as (url: string) => Promise<Record<string, unknown>>;
const STATIC_COPY = "pulumi-nodejs:dynamic/fleet:StaticCopy";

/** What the probes print: PEMs for the logs' TLS; for `<host>-<app>-settings`, the app's own served folders. */
const probed = (name: string): unknown => {
  const pem = (kind: string) => `-----BEGIN ${kind}-----\n${Buffer.from(name).toString("base64")}\n-----END ${kind}-----\n`;
  if (/^logging-csr-/.test(name)) return pem("CERTIFICATE REQUEST");
  if (/^logging-/.test(name)) return pem("CERTIFICATE");
  const app = /-([a-z]+)-settings$/.exec(name)?.[1] ?? "none";
  return { staticRoot: `/srv/${app}/public/static`, staticUrl: "/static/", mediaRoot: `/srv/${app}/public/media`, mediaUrl: "/media/", staticfiles: true };
};

let dir: string;
let repo: string;
let runs = 0;

/** Runs index.ts under mocks with this config (objects as JSON); returns what it registered. */
async function runProgram(config: Record<string, unknown>): Promise<Registered[]> {
  const seen: Registered[] = [];
  await pulumi.runtime.setMocks({
    newResource(args) {
      seen.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state = args.type === T.secret ? { ...args.inputs, value: `${args.name}-value` }
        : args.type === T.probe ? { ...args.inputs, value: probed(args.name) } : args.inputs;
      return { id: `${args.name}_id`, state };
    },
    call: (args) => args.inputs,
  }, "django-fleet", "plan");
  pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])),
    ["django-fleet:backup", "django-fleet:media"]);
  const module = await nativeImport(new URL(`../../index.ts?plan=${++runs}`, import.meta.url).href);
  await Promise.all(Object.values(module).map((x) => new Promise((res) => { pulumi.output(x as pulumi.Input<string>).apply((v) => { res(v); return v; }); })));
  let last = -1;
  while (last !== seen.length) {
    last = seen.length;
    await new Promise((r) => setTimeout(r, 250));
  }
  return seen;
}

/** Our files whose planning this test checks: any such file the program writes must be planned. */
const PLANNED = /firewall\.nft$|django-fleet-firewall\.service$|rsyslog\.d\/|logrotate\.d\/django-fleet$|postgresql\/.*\/(django-fleet\.conf|pg_hba\.conf)$|60-django-fleet\.cnf$|rabbitmq\.conf$|memcached\.conf$|\/redis\/redis-(?!.*-secret\.conf$)[a-z0-9-]+\.conf$|sites-(enabled|available)\/|gunicorn\.(conf\.py|service|socket)$|celery-(worker|beat)\.service$|object-store-ca\.pem$/;

/** A check of a file's content. */
type Check = ((content: string) => void) | undefined;
/** The content holds each of these lines, whole. */
const lines = (...ls: string[]): Check => (c) => expect(c.split("\n")).toEqual(expect.arrayContaining(ls));
/** The content is this. */
const whole = (text: string): Check => (c) => expect(c).toBe(text);

/** Checks what the program registered against the plan, host by host. */
function expectPlanned(plan: FleetPlan, resources: readonly Registered[]): void {
  const byAddress = new Map(plan.hosts.map((h) => [h.host.address, h.host.name]));
  const on = (r: Registered, key = "connection") => byAddress.get((plain(r.inputs[key]) as { host: string }).host);
  for (const hp of plan.hosts) {
    const files = new Map(resources.filter((r) => r.type === T.file && on(r) === hp.host.name)
      .map((r) => [plain(r.inputs.path) as string, plain(r.inputs.content) as string]));
    const want: Array<[string, Check]> = [[hp.firewall.rules, undefined], [hp.firewall.unitFile, undefined]];
    const l = hp.logging;
    if (l) want.push([l.forwardConf, lines(`    target="${l.shipsTo}"`, `    port="${l.port}"`)]);
    if (l?.server) want.push([l.server.conf, lines(`$AllowedSender TCP, ${l.server.allowedSenders.join(", ")}`)], [l.server.retention, undefined]);
    const db = hp.database;
    if (db?.postgres) want.push([db.postgres.conf, lines(`listen_addresses = '${db.listenAddresses.join(",")}'`, `port = ${db.port}`)], [db.postgres.hba, undefined]);
    if (db?.mariadbConf) want.push([db.mariadbConf, lines(`bind-address = ${db.listenAddresses.join(",")}`, `port = ${db.port}`)]);
    if (hp.rabbitmq) want.push([hp.rabbitmq.conf, whole(renderRabbitmqConf(hp.rabbitmq))]);
    if (hp.memcached) want.push(["/etc/memcached.conf", lines(`-l ${hp.memcached.listenAddresses.join(",")}`)]);
    for (const r of hp.redis) want.push([redisInstancePaths(r.app).conf, lines(`bind ${r.listenAddresses.join(" ")}`, `port ${r.port}`)]);
    if (hp.nginx) want.push([hp.nginx.defaultSite.path, whole(hp.nginx.defaultSite.content)], ...(hp.nginx.defaultServer ? [[hp.nginx.defaultServer, undefined] as [string, Check]] : []));
    for (const s of hp.nginx?.sites ?? []) {
      // Its upstream, server by server, and nothing else.
      want.push([s.path, (c) => expect(c.split("\n").filter((x) => x.startsWith("    server ")))
        .toEqual(s.upstreams.map((u) => `    server ${u.address}:${u.port} max_fails=3 fail_timeout=10s;`))]);
    }
    for (const a of hp.apps) {
      const g = a.gunicorn;
      if (g) want.push([g.conf, lines(`bind = "${g.bindAddress}:${g.port}"`)], [unitFilePath(g.unit), lines(`TimeoutStopSec=${g.stopTimeoutSeconds}`)], [unitFilePath(g.socketUnit), undefined]);
      const c = a.celery;
      if (c?.worker) want.push([unitFilePath(c.workerUnit), (t) => expect(t).toContain(`/celery -A ${c.celeryApp} worker `)]);
      if (c?.beat) want.push([unitFilePath(c.beatUnit), (t) => expect(t).toContain(`/celery -A ${c.celeryApp} beat --loglevel INFO --schedule ${c.scheduleFile}\n`)]);
    }
    if (hp.objectStoreCa) want.push([hp.objectStoreCa.path, undefined]);
    expect([...files.keys()].filter((p) => PLANNED.test(p)).sort(), hp.host.name).toEqual(want.map(([p]) => p).sort());
    for (const [path, check] of want) check?.(files.get(path)!);
  }
  for (const a of plan.apps) {
    expect(resources.filter((r) => r.type === T.script && r.name === `${a.app}-migrate`).map((r) => on(r)), a.app).toEqual([a.migrator]);
    expect(resources.filter((r) => r.type === STATIC_COPY && plain(r.inputs.app) === a.app).map((r) => on(r, "to")), a.app).toEqual(a.staticCopyTo ? [a.staticCopyTo] : []);
  }
}

const h = (name: string, n: number, roles: string[]) => ({ name, address: `203.0.113.${n}`, privateAddress: `10.1.0.${n}`, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC", roles, os: "debian13" });
const app = (name: string, over: Record<string, unknown> = {}) => ({ name, repo, ref: "main", settingsModule: `${name}site.settings`, wsgiModule: `${name}site.wsgi:application`, ...over });

const cases: Array<[string, () => Record<string, unknown>]> = [
  ["every role on its own host: a replica, memcached, backups and uploads in stores with their own CAs", () => ({
    hosts: [h("lb", 1, ["loadBalancer"]), h("app1", 2, ["app"]), h("app2", 3, ["app"]), h("worker", 4, ["worker", "beat"]), h("db", 5, ["db"]),
      h("replica", 6, ["dbReplica"]), h("broker", 7, ["broker"]), h("logging", 8, ["logging"]), h("cache", 9, ["cache"])],
    app: app("shop"), cache: { kind: "memcached" },
    backup: { target: target("shop-backups", join(dir, "backup-ca.pem")) }, media: { storage: "s3", target: target("shop-media", join(dir, "media-ca.pem")) },
  })],
  ["two apps, each app's Redis as broker and cache, one app on a second host", () => ({
    hosts: [h("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "cache", "logging"]), h("web2", 22, ["app", "worker"]), h("db", 21, ["db"])],
    app: undefined, apps: [app("shop", { domains: ["shop.example"] }), app("blog", { domains: ["blog.example"], hosts: ["web"], celeryApp: "blogsite.tasks:app" })],
    broker: { kind: "redis" }, cache: { kind: "redis" }, media: { storage: "s3", target: target("shop-media") },
  })],
  // The primary's only remote client is its replica: it must listen on its private address for it.
  ["MariaDB beside the code, a replica and restic backups, a memcached host, no load balancer or logging host", () => ({
    hosts: [h("app1", 30, ["app", "worker", "beat", "broker", "db"]), h("db2", 32, ["dbReplica"]), h("cache", 33, ["cache"])],
    app: app("shop"), database: { engine: "mariadb" }, cache: { kind: "memcached" }, backup: { target: target("shop-backups", join(dir, "backup-ca.pem")) },
  })],
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "fleet-plan-"));
  repo = join(dir, "app.git");
  requirementsRepo(repo);
  writeFileSync(join(dir, "id_ed25519"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot a real key\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
  for (const ca of ["backup-ca.pem", "media-ca.pem"]) writeFileSync(join(dir, ca), `-----BEGIN CERTIFICATE-----\n${ca}\n-----END CERTIFICATE-----\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the plan is what the program registers", () => {
  it.each(cases)("%s", async (_name, config) => {
    const c = { ...config(), sshPrivateKeyPath: join(dir, "id_ed25519") };
    const { plan } = planOf(c);
    expectPlanned(plan, await runProgram(c));
  }, 120_000);
});
