import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../config/load.ts";
import type { Role } from "../../config/schema.ts";
import { addressFrom, buildTopology, type HostPlan, type Inventory } from "../../config/topology.ts";

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const KEY_B = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIId0paVhpFe2+CKpnTtFPRRMLjAF3AcffsCe2MR/JRzK";
const ALL_ROLES: Role[] = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"];

/** Raw Pulumi config (objects as JSON strings), as config.test.ts builds it; parsed so defaults apply. */
function config(over: Record<string, unknown> = {}) {
  const base: Record<string, unknown> = {
    hosts: [{ name: "fleet-dev", address: "10.0.0.10", hostKey: KEY_A, roles: ALL_ROLES }],
    app: { name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" },
    sshPrivateKeyPath: "/root/.ssh/id",
    // Shared media: the split fleets have two app hosts.
    media: { storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "shop-media", accessKeyId: "AKID", secretAccessKey: "SECRET" } },
    ...over,
  };
  const raw = Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined).map(([k, v]) =>
    [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
  return parseConfig(raw);
}

/** One host entry with an address and key, so only the roles matter. */
function host(name: string, roles: Role[], n: number, extra: Record<string, unknown> = {}) {
  return { name, address: `203.0.113.${n}`, privateAddress: `10.1.0.${n}`, hostKey: KEY_A, roles, ...extra };
}

const SPLIT = [
  host("lb", ["loadBalancer"], 1),
  host("app1", ["app"], 2),
  host("app2", ["app"], 3),
  host("worker", ["worker", "beat"], 4),
  host("db", ["db"], 5),
  host("db-replica", ["dbReplica"], 6),
  host("broker", ["broker"], 7),
  host("logging", ["logging"], 8),
];

function plan(name: string, n: number, roles: Role[]): HostPlan {
  return { name, address: `203.0.113.${n}`, privateAddress: `10.1.0.${n}`, port: 22, user: "root", hostKey: KEY_A, roles: new Set(roles) };
}

function problems(over: Record<string, unknown>, inventory?: Inventory): string[] {
  const cfg = config(over);
  try {
    buildTopology(cfg, inventory);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("buildTopology: valid fleets", () => {
  it("one dev host holding every role", () => {
    const cfg = config();
    const t = buildTopology(cfg);
    const dev: HostPlan = {
      name: "fleet-dev", address: "10.0.0.10", privateAddress: "10.0.0.10", port: 22, user: "root",
      hostKey: KEY_A, roles: new Set(ALL_ROLES),
    };
    // The `app` shorthand is one app, with every per-app default resolved (config/apps.ts).
    const { port: _port, ...appConfig } = cfg.app!;
    const shop = {
      ...appConfig, key: "app", index: 0, port: 8000, portSet: false, serverName: "_", namesKey: "loadBalancer.serverName",
      database: { name: "shop", user: "shop" }, celery: { concurrency: 2, queues: ["celery"], beat: true }, redisDb: 0,
      redisPort: 6379, redisPortSet: false, mediaLocation: "media",
    };
    expect(t).toEqual({
      deployments: [{ app: shop, appHosts: [dev], workers: [dev], beat: dev, codeHosts: [dev] }],
      hosts: [dev], loadBalancer: dev, apps: [dev], workers: [dev], beat: dev, db: dev, dbReplicas: [],
      broker: dev, logging: dev, cache: undefined, codeHosts: [dev], privateKeyPath: "/root/.ssh/id",
    });
    expect(Object.keys(t.deployments[0]!.app).sort()).toEqual(Object.keys(shop).sort());
    // Every role points at the very same plan object.
    expect(t.db).toBe(t.hosts[0]);
    expect(t.broker).toBe(t.hosts[0]);
  });

  it("a split prod-like fleet: every role on its own host", () => {
    const t = buildTopology(config({ hosts: SPLIT }));
    expect(t.hosts.map((h) => h.name)).toEqual(["lb", "app1", "app2", "worker", "db", "db-replica", "broker", "logging"]);
    expect(t.hosts[1]).toEqual(plan("app1", 2, ["app"]));
    expect(t.loadBalancer).toEqual(plan("lb", 1, ["loadBalancer"]));
    expect(t.apps).toEqual([plan("app1", 2, ["app"]), plan("app2", 3, ["app"])]);
    expect(t.workers).toEqual([plan("worker", 4, ["worker", "beat"])]);
    expect(t.beat.name).toBe("worker");
    expect(t.db).toEqual(plan("db", 5, ["db"]));
    expect(t.dbReplicas).toEqual([plan("db-replica", 6, ["dbReplica"])]);
    expect(t.broker.name).toBe("broker");
    expect(t.logging?.name).toBe("logging");
    expect(t.codeHosts.map((h) => h.name)).toEqual(["app1", "app2", "worker"]);
    expect(t.privateKeyPath).toBe("/root/.ssh/id");
    // The one app runs on every app, worker and beat host.
    const d = t.deployments.map((x) => ({ app: x.app.name, appHosts: x.appHosts.map((h) => h.name), workers: x.workers.map((h) => h.name), beat: x.beat?.name, codeHosts: x.codeHosts.map((h) => h.name) }));
    expect(d).toEqual([{ app: "shop", appHosts: ["app1", "app2"], workers: ["worker"], beat: "worker", codeHosts: ["app1", "app2", "worker"] }]);
  });

  it("no load balancer and no logging host are allowed", () => {
    const t = buildTopology(config({ hosts: [host("web", ["app", "worker", "beat", "db", "broker"], 9)] }));
    expect(t.loadBalancer).toBeUndefined();
    expect(t.logging).toBeUndefined();
  });

  it("privateAddress defaults to address; port and user default to 22 and root", () => {
    const t = buildTopology(config({ hosts: [{ name: "web", address: "198.51.100.7", hostKey: KEY_A, roles: ALL_ROLES }] }));
    expect(t.hosts[0]).toMatchObject({ address: "198.51.100.7", privateAddress: "198.51.100.7", port: 22, user: "root" });
  });

  it("explicit port and user in config are kept", () => {
    const t = buildTopology(config({ hosts: [{ name: "web", address: "198.51.100.7", hostKey: KEY_A, port: 2200, user: "admin", roles: ALL_ROLES }] }));
    expect(t.hosts[0]).toMatchObject({ port: 2200, user: "admin" });
  });
});

describe("buildTopology: inventory", () => {
  const inventory: Inventory = {
    privateKeyPath: "/run/testhosts/id_ed25519",
    hosts: [
      { name: "fleet-dev", address: "198.18.0.10", hostKey: KEY_B, user: "root" },
      { name: "other", address: "198.18.0.11", hostKey: KEY_A },
    ],
  };

  it("fills address, private address, host key and the private key path", () => {
    const t = buildTopology(config({ hosts: [{ name: "fleet-dev", roles: ALL_ROLES }], sshPrivateKeyPath: undefined }), inventory);
    expect(t.hosts).toEqual([{
      name: "fleet-dev", address: "198.18.0.10", privateAddress: "198.18.0.10", port: 22, user: "root",
      hostKey: KEY_B, roles: new Set(ALL_ROLES),
    }]);
    expect(t.privateKeyPath).toBe("/run/testhosts/id_ed25519");
  });

  it("an inventory key is cut to its type and key (the .pub file's comment and extra spaces dropped)", () => {
    const t = buildTopology(config({ hosts: [{ name: "fleet-dev", roles: ALL_ROLES }], sshPrivateKeyPath: undefined }),
      { ...inventory, hosts: [{ name: "fleet-dev", address: "198.18.0.10", hostKey: `  ${KEY_B.replace(" ", "   ")} root@fleet-dev extra  ` }] });
    expect(t.hosts[0]!.hostKey).toBe(KEY_B);
  });

  it("values set in config win over the inventory's", () => {
    const t = buildTopology(config({
      hosts: [{ name: "fleet-dev", address: "10.9.9.9", privateAddress: "10.8.8.8", hostKey: KEY_A, roles: ALL_ROLES }],
      sshPrivateKeyPath: "/home/me/.ssh/id",
    }), inventory);
    expect(t.hosts[0]).toMatchObject({ address: "10.9.9.9", privateAddress: "10.8.8.8", hostKey: KEY_A });
    expect(t.privateKeyPath).toBe("/home/me/.ssh/id");
  });

  it("a host missing from the inventory is reported, with both address and key", () => {
    expect(problems({ hosts: [{ name: "nowhere", roles: ALL_ROLES }] }, inventory)).toEqual([
      'hosts[0].address: missing for host "nowhere". Fix: set it, or add "nowhere" to the inventory file',
      'hosts[0].hostKey: missing for host "nowhere" (host keys are pinned). Fix: set it to the host\'s `ssh-ed25519 AAAA...` key, or add "nowhere" to the inventory file',
    ]);
  });
});

describe("buildTopology: cross-host rules", () => {
  const rest = (roles: Role[]) => ALL_ROLES.filter((r) => !roles.includes(r));
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ["no db", { hosts: [host("a", rest(["db"]), 1)] },
      'hosts: exactly one host must have the role "db" (the database primary); found 0. Fix: add "db" to the roles of exactly one host'],
    ["two db", { hosts: [host("a", ALL_ROLES, 1), host("b", ["db"], 2)] },
      'hosts: exactly one host must have the role "db" (the database primary); found 2 (a, b). Fix: add "db" to the roles of exactly one host'],
    ["no broker", { hosts: [host("a", rest(["broker"]), 1)] },
      'hosts: exactly one host must have the role "broker" (the Celery broker); found 0. Fix: add "broker" to the roles of exactly one host'],
    ["two brokers", { hosts: [host("a", ALL_ROLES, 1), host("b", ["broker"], 2)] },
      'hosts: exactly one host must have the role "broker" (the Celery broker); found 2 (a, b). Fix: add "broker" to the roles of exactly one host'],
    ["no beat", { hosts: [host("a", rest(["beat"]), 1)] },
      'hosts: exactly one host must have the role "beat" (Celery beat must run once in the whole fleet, or periodic tasks run twice or never); found 0. Fix: add "beat" to the roles of exactly one host'],
    ["two beats", { hosts: [host("a", ALL_ROLES, 1), host("b", ["worker", "beat"], 2)] },
      'hosts: exactly one host must have the role "beat" (Celery beat must run once in the whole fleet, or periodic tasks run twice or never); found 2 (a, b). Fix: add "beat" to the roles of exactly one host'],
    ["local media with two app hosts", { hosts: [host("a", ALL_ROLES, 1), host("b", ["app"], 2)], media: { storage: "local" } },
      'hosts: 2 hosts have the role "app" (a, b) and media.storage is "local": an upload would land on the node that took the request, and the other nodes and the load balancer could not serve it (and it is lost with that node). Fix: `npm run pulumi -- config set --path media.storage s3` with media.target naming a bucket, or run one app host'],
    // The backup store's keys can delete the backups: the app gets them only when asked for by name.
    ["s3 media with only a backup target", { media: { storage: "s3" }, backup: { target: { endpoint: "https://s3.example", bucket: "fleet-backups", accessKeyId: "k", secretAccessKey: "s" } } },
      "media.target: missing; uploads are not put in backup.target on their own, because every app host would then hold keys that can delete the database backups. Fix: set media.target with its own bucket and keys (`npm run pulumi -- config set --secret --path media.target.secretAccessKey <key>`, and endpoint, bucket, accessKeyId), or `npm run pulumi -- config set --path media.shareBackupTarget true` to share the backup store knowingly"],
    ["shareBackupTarget without a backup target", { media: { storage: "s3", shareBackupTarget: true } },
      "media.shareBackupTarget: true, but there is no backup.target to share. Fix: set media.target (its own bucket and keys), or backup.target"],
    ["shareBackupTarget and a media target", { media: { storage: "s3", shareBackupTarget: true, target: { endpoint: "https://s3.example", bucket: "fleet-media", accessKeyId: "k", secretAccessKey: "s" } } },
      "media.shareBackupTarget: true, but media.target is set too; uploads go to one store. Fix: `npm run pulumi -- config rm --path media.shareBackupTarget`, or remove media.target"],
    ["shareBackupTarget with local media", { media: { shareBackupTarget: true }, backup: { target: { endpoint: "https://s3.example", bucket: "fleet-backups", accessKeyId: "k", secretAccessKey: "s" } } },
      "media.shareBackupTarget: true, but media.storage is \"local\". Fix: `npm run pulumi -- config set --path media.storage s3`, or `config rm --path media.shareBackupTarget`"],
    ["s3 media without any target", { media: { storage: "s3" } },
      'media.storage: "s3" names no object store. Fix: set media.target (endpoint, bucket, accessKeyId, secretAccessKey; keys with `npm run pulumi -- config set --secret --path media.target.secretAccessKey <key>`)'],
    ["no app", { hosts: [host("a", rest(["app"]), 1)] },
      'hosts: no host has the role "app". Fix: add "app" to the roles of at least one host'],
    ["no worker", { hosts: [host("a", rest(["worker"]), 1)] },
      'hosts: no host has the role "worker", so Celery tasks would never run. Fix: add "worker" to the roles of at least one host'],
    ["two load balancers", { hosts: [host("a", ALL_ROLES, 1), host("b", ["loadBalancer"], 2)] },
      'hosts: at most one host may have the role "loadBalancer"; found 2 (a, b). Fix: keep "loadBalancer" in the roles of one host and remove it from the others'],
    ["two logging hosts", { hosts: [host("a", ALL_ROLES, 1), host("b", ["logging"], 2)] },
      'hosts: at most one host may have the role "logging"; found 2 (a, b). Fix: keep "logging" in the roles of one host and remove it from the others'],
    ["db and dbReplica on one host", { hosts: [host("a", [...ALL_ROLES, "dbReplica"], 1)] },
      'hosts: "a" has both "db" and "dbReplica"; a replica must be another host. Fix: remove one of the two roles'],
    ["duplicate host names", { hosts: [host("a", ALL_ROLES, 1), host("a", ["app"], 2)] },
      'hosts[1].name: "a" is used twice. Fix: give every host its own name'],
    ["missing address", { hosts: [{ name: "a", hostKey: KEY_A, roles: ALL_ROLES }] },
      'hosts[0].address: missing for host "a". Fix: set it, or add "a" to the inventory file'],
    ["missing hostKey", { hosts: [{ name: "a", address: "10.0.0.1", roles: ALL_ROLES }] },
      'hosts[0].hostKey: missing for host "a" (host keys are pinned). Fix: set it to the host\'s `ssh-ed25519 AAAA...` key, or add "a" to the inventory file'],
    ["tls provided without any path", { loadBalancer: { tls: "provided" } },
      'loadBalancer.tls: "provided" needs loadBalancer.certificatePath and loadBalancer.keyPath (or a tls certificate for every app). Fix: set both, or use tls "selfSigned"'],
    ["tls provided with only the certificate", { loadBalancer: { tls: "provided", certificatePath: "/etc/ssl/site.pem" } },
      'loadBalancer.tls: "provided" needs loadBalancer.certificatePath and loadBalancer.keyPath (or a tls certificate for every app). Fix: set both, or use tls "selfSigned"'],
    ["missing sshPrivateKeyPath", { sshPrivateKeyPath: undefined },
      "sshPrivateKeyPath: missing. Fix: `npm run pulumi -- config set sshPrivateKeyPath ~/.ssh/id_ed25519`, or use an inventory file that names privateKeyPath"],
  ];
  for (const [name, over, message] of cases) {
    it(`refuses: ${name}`, () => {
      // Each case breaks exactly one rule, so exactly one problem is reported.
      expect(problems(over)).toEqual([message]);
    });
  }

  it("tls provided with both paths is accepted", () => {
    expect(() => buildTopology(config({ loadBalancer: { tls: "provided", certificatePath: "/c.pem", keyPath: "/k.pem" } }))).not.toThrow();
  });

  it("reports every broken rule at once, in a ConfigError that says nothing changed", () => {
    let err: unknown;
    try {
      buildTopology(config({ hosts: [host("a", ["logging"], 1), host("a", ["logging"], 2)], sshPrivateKeyPath: undefined }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const e = err as ConfigError;
    expect(e.problems).toEqual([
      'hosts[1].name: "a" is used twice. Fix: give every host its own name',
      'hosts: exactly one host must have the role "db" (the database primary); found 0. Fix: add "db" to the roles of exactly one host',
      'hosts: exactly one host must have the role "broker" (the Celery broker); found 0. Fix: add "broker" to the roles of exactly one host',
      'hosts: exactly one host must have the role "beat" (Celery beat must run once in the whole fleet, or periodic tasks run twice or never); found 0. Fix: add "beat" to the roles of exactly one host',
      'hosts: no host has the role "app". Fix: add "app" to the roles of at least one host',
      'hosts: no host has the role "worker", so Celery tasks would never run. Fix: add "worker" to the roles of at least one host',
      'hosts: at most one host may have the role "logging"; found 2 (a, a). Fix: keep "logging" in the roles of one host and remove it from the others',
      "sshPrivateKeyPath: missing. Fix: `npm run pulumi -- config set sshPrivateKeyPath ~/.ssh/id_ed25519`, or use an inventory file that names privateKeyPath",
    ]);
    expect(e.message.split("\n")[0]).toBe("django-fleet: the stack config is invalid; nothing was changed on any server.");
    expect(e.message).toContain("\n  - hosts[1].name: \"a\" is used twice.");
  });
});

describe("addressFrom", () => {
  const a = plan("a", 1, ["app"]);
  const b = plan("b", 2, ["db"]);
  const cases: Array<[string, HostPlan, HostPlan, string]> = [
    ["the same host reaches itself on loopback", a, a, "127.0.0.1"],
    ["another host is reached on its private address", a, b, "10.1.0.2"],
    ["and the other way round", b, a, "10.1.0.1"],
    ["same name means same host, even as another object", a, { ...a, privateAddress: "10.9.9.9" }, "127.0.0.1"],
  ];
  for (const [name, from, to, expected] of cases) {
    it(name, () => expect(addressFrom(from, to)).toBe(expected));
  }
});
