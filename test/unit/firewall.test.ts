import { describe, expect, it } from "vitest";
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../../config/load.ts";
import { openingsFor } from "../../config/firewall.ts";
import { buildTopology } from "../../config/topology.ts";
import { renderNftables } from "../../services/nftables/nftables.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const ROLES: Record<string, string[]> = {
  lb: ["loadBalancer", "logging"], app1: ["app"], app2: ["app"], worker: ["worker", "beat", "broker"], db: ["db"], replica: ["dbReplica"],
};
const ADDR = Object.fromEntries(Object.keys(ROLES).map((n, i) => [n, `10.0.0.${10 + i}`]));

function topo(tls: string, broker = "rabbitmq") {
  const raw: Record<string, string> = {
    "django-fleet:hosts": JSON.stringify(Object.entries(ROLES).map(([name, roles]) => ({ name, address: ADDR[name], hostKey: KEY, roles }))),
    "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
    "django-fleet:loadBalancer": JSON.stringify({ tls }),
    "django-fleet:broker": JSON.stringify({ kind: broker }),
    "django-fleet:sshPrivateKeyPath": "/k",
    "django-fleet:media": JSON.stringify({ storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "shop-media", accessKeyId: "AKID", secretAccessKey: "SECRET" } }),
  };
  const cfg = parseConfig(raw);
  return { cfg, t: buildTopology(cfg) };
}

function table(name: string, tls = "selfSigned", broker = "rabbitmq"): string[] {
  const { cfg, t } = topo(tls, broker);
  const h = t.hosts.find((x) => x.name === name)!;
  return openingsFor(h, t, cfg).map((o) => `${o.port} ${o.from.join(",") || "any"}`);
}

describe("openingsFor: each host opens only what its roles need", () => {
  const cases: Array<[string, string[]]> = [
    ["lb", ["22 any", "80 any", "443 any", "10514 10.0.0.11,10.0.0.12,10.0.0.13,10.0.0.14,10.0.0.15"]],
    ["app1", ["22 any", "8000 10.0.0.10"]],
    ["app2", ["22 any", "8000 10.0.0.10"]],
    ["worker", ["22 any", "5672 10.0.0.11,10.0.0.12"]],
    // The database answers the code hosts and its replica, and not the load balancer.
    ["db", ["22 any", "5432 10.0.0.11,10.0.0.12,10.0.0.13,10.0.0.15"]],
    ["replica", ["22 any", "5432 10.0.0.11,10.0.0.12,10.0.0.13"]],
  ];
  for (const [name, expected] of cases) it(`fails when ${name} opens more or less than it should`, () => expect(table(name)).toEqual(expected));

  it("opens 443 only with TLS", () => expect(table("lb", "none")).not.toContain("443 any"));
  it("opens the Redis port for a Redis broker", () => expect(table("worker", "none", "redis")).toEqual(["22 any", "6379 10.0.0.11,10.0.0.12"]));
});

describe("renderNftables", () => {
  it("matches the golden file for the database host", () => {
    const { cfg, t } = topo("selfSigned");
    const out = renderNftables({ openings: openingsFor(t.hosts.find((h) => h.name === "db")!, t, cfg) });
    const golden = join(import.meta.dirname, "golden", "nftables-db.txt");
    if (process.env.UPDATE_GOLDEN === "1") writeFileSync(golden, out);
    expect(existsSync(golden), `missing ${golden}: run with UPDATE_GOLDEN=1 to create it`).toBe(true);
    expect(out).toBe(readFileSync(golden, "utf8"));
  });

  it("drops by default and replaces the whole table on every load", () => {
    const out = renderNftables({ openings: [{ port: 22, from: [], why: "ssh" }] });
    expect(out).toContain("policy drop;");
    expect(out.indexOf("delete table inet django_fleet")).toBeLessThan(out.indexOf("table inet django_fleet {"));
  });

  it("splits IPv4 and IPv6 sources", () => {
    const out = renderNftables({ openings: [{ port: 5432, from: ["10.0.0.1", "fd00::1"], why: "db" }] });
    expect(out).toContain('ip saddr { 10.0.0.1 } tcp dport 5432 accept comment "db"');
    expect(out).toContain('ip6 saddr { fd00::1 } tcp dport 5432 accept comment "db"');
  });

  it("refuses a source that is not an address", () => {
    expect(() => renderNftables({ openings: [{ port: 1, from: ["db.example"], why: "x" }] })).toThrow('firewall source "db.example" is not an IP address');
  });
});

describe("cache rules and openings", () => {
  function withCache(kind: string, roles: Record<string, string[]>, broker = "rabbitmq") {
    const raw: Record<string, string> = {
      "django-fleet:hosts": JSON.stringify(Object.entries(roles).map(([name, r], i) => ({ name, address: `10.0.1.${i + 1}`, hostKey: KEY, roles: r }))),
      "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
      "django-fleet:cache": JSON.stringify({ kind }),
      "django-fleet:broker": JSON.stringify({ kind: broker }),
      "django-fleet:sshPrivateKeyPath": "/k",
    };
    const cfg = parseConfig(raw);
    return { cfg, t: buildTopology(cfg) };
  }
  const base = { web: ["loadBalancer", "app"], work: ["worker", "beat", "broker", "db"] };

  it("opens memcached to the code hosts only", () => {
    const { cfg, t } = withCache("memcached", { ...base, mc: ["cache"] });
    expect(openingsFor(t.hosts.find((h) => h.name === "mc")!, t, cfg).map((o) => `${o.port} ${o.from.join(",")}`))
      .toEqual(["22 ", "11211 10.0.1.1,10.0.1.2"]);
  });
  it("a Redis cache on the Redis broker's host opens no second port (the app's one server holds both)", () => {
    const { cfg, t } = withCache("redis", { web: ["loadBalancer", "app"], work: ["worker", "beat", "broker", "db", "cache"] }, "redis");
    expect(openingsFor(t.hosts.find((h) => h.name === "work")!, t, cfg).map((o) => o.port)).toEqual([22, 5432, 6379]);
  });
  it("fails when a cache kind is set and no host has the cache role", () => {
    expect(() => withCache("memcached", base)).toThrow('hosts: cache.kind is "memcached", so exactly one host must have the role "cache"; found 0.');
  });
  it("fails when a host has the cache role and no cache kind is set", () => {
    expect(() => withCache("none", { ...base, mc: ["cache"] })).toThrow('hosts: (mc) has the role "cache" but cache.kind is "none".');
  });
});

describe("each app's own Redis opens only to that app's code hosts", () => {
  // shop runs on a1, blog on a2 and w2; r holds the broker, the cache or both.
  function fleet(broker: string, cache: string, rRoles: string[]) {
    const hosts: Record<string, string[]> = { lb: ["loadBalancer", "logging"], a1: ["app", "worker", "beat"], a2: ["app"], w2: ["worker"], r: rRoles };
    const raw: Record<string, string> = {
      "django-fleet:hosts": JSON.stringify(Object.entries(hosts).map(([name, roles], i) => ({ name, address: `10.0.2.${i + 1}`, hostKey: KEY, roles }))),
      "django-fleet:apps": JSON.stringify([
        { name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application", domains: ["shop.example"], hosts: ["a1"] },
        { name: "blog", repo: "https://git.example/blog.git", settingsModule: "blog.settings", wsgiModule: "blog.wsgi:application", domains: ["blog.example"], hosts: ["a2", "w2"], celery: { beat: false } },
      ]),
      "django-fleet:cache": JSON.stringify({ kind: cache }),
      "django-fleet:broker": JSON.stringify({ kind: broker }),
      "django-fleet:sshPrivateKeyPath": "/k",
      "django-fleet:media": JSON.stringify({ storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "media", accessKeyId: "AKID", secretAccessKey: "SECRET" } }),
    };
    const cfg = parseConfig(raw);
    const t = buildTopology(cfg);
    return openingsFor(t.hosts.find((h) => h.name === "r")!, t, cfg).filter((o) => o.why.startsWith("redis")).map((o) => `${o.port} ${o.from.join(",")}`);
  }
  const cases: Array<[string, string, string, string[], string[]]> = [
    ["a Redis broker", "redis", "none", ["broker", "db"], ["6397 10.0.2.2", "6801 10.0.2.3,10.0.2.4"]],
    ["a Redis cache, RabbitMQ broker", "rabbitmq", "redis", ["broker", "db", "cache"], ["6397 10.0.2.2", "6801 10.0.2.3,10.0.2.4"]],
    ["both on one host: one server per app", "redis", "redis", ["broker", "db", "cache"], ["6397 10.0.2.2", "6801 10.0.2.3,10.0.2.4"]],
    ["memcached and RabbitMQ: no Redis", "rabbitmq", "memcached", ["broker", "db", "cache"], []],
  ];
  for (const [name, broker, cache, roles, expected] of cases) it(name, () => expect(fleet(broker, cache, roles)).toEqual(expected));
});

describe("firewall addresses", () => {
  it("fails when a private address is a name (rules need an IP)", () => {
    const raw: Record<string, string> = {
      "django-fleet:hosts": JSON.stringify([{ name: "a", address: "a.example", hostKey: KEY, roles: ["app", "worker", "beat", "db", "broker"] }]),
      "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
      "django-fleet:sshPrivateKeyPath": "/k",
    };
    expect(() => buildTopology(parseConfig(raw))).toThrow(
      'hosts[0].address: must be an IPv4 address (firewall and database access rules are written with it), got "a.example".');
  });
  it("opens the host's own SSH port", () => {
    const raw: Record<string, string> = {
      "django-fleet:hosts": JSON.stringify([{ name: "a", address: "10.0.0.1", port: 2222, hostKey: KEY, roles: ["app", "worker", "beat", "db", "broker"] }]),
      "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
      "django-fleet:sshPrivateKeyPath": "/k",
    };
    const cfg = parseConfig(raw);
    const t = buildTopology(cfg);
    expect(openingsFor(t.hosts[0]!, t, cfg)[0]).toEqual({ port: 2222, from: [], why: "ssh" });
  });
});

describe("several apps: each app's gunicorn port, only where it runs", () => {
  const app = (name: string, over: Record<string, unknown> = {}) =>
    ({ name, repo: `https://git.example/${name}.git`, settingsModule: `${name}.settings`, wsgiModule: `${name}.wsgi:application`, domains: [`${name}.example`], ...over });
  function fleet(apps: unknown[]) {
    const raw: Record<string, string> = {
      "django-fleet:hosts": JSON.stringify(Object.entries(ROLES).map(([name, roles]) => ({ name, address: ADDR[name], hostKey: KEY, roles }))),
      "django-fleet:apps": JSON.stringify(apps),
      "django-fleet:sshPrivateKeyPath": "/k",
      "django-fleet:media": JSON.stringify({ storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "shop-media", accessKeyId: "AKID", secretAccessKey: "SECRET" } }),
    };
    const cfg = parseConfig(raw);
    return { cfg, t: buildTopology(cfg) };
  }
  const openings = (f: ReturnType<typeof fleet>, name: string) => openingsFor(f.t.hosts.find((h) => h.name === name)!, f.t, f.cfg);

  it("an app host opens each app's port to the load balancer, saying which app", () => {
    const f = fleet([app("shop"), app("blog")]);
    for (const name of ["app1", "app2"]) {
      expect(openings(f, name)).toEqual([
        { port: 22, from: [], why: "ssh" },
        { port: 8957, from: ["10.0.0.10"], why: "gunicorn of shop, from the load balancer" },
        { port: 8421, from: ["10.0.0.10"], why: "gunicorn of blog, from the load balancer" },
      ]);
    }
  });

  it("an app that runs on app2 only opens its port on app2 only", () => {
    const f = fleet([app("shop"), app("blog", { hosts: ["app2", "worker"] })]);
    expect(openings(f, "app1").map((o) => `${o.port} ${o.why}`)).toEqual(["22 ssh", "8957 gunicorn of shop, from the load balancer"]);
    expect(openings(f, "app2").map((o) => `${o.port} ${o.why}`)).toEqual([
      "22 ssh", "8957 gunicorn of shop, from the load balancer", "8421 gunicorn of blog, from the load balancer",
    ]);
  });

  it("the `app` shorthand names its app too", () => {
    const { cfg, t } = topo("none");
    expect(openingsFor(t.hosts.find((h) => h.name === "app1")!, t, cfg)).toContainEqual({ port: 8000, from: ["10.0.0.10"], why: "gunicorn of shop, from the load balancer" });
  });

  it("the nftables rules carry the app's name in their comment", () => {
    const f = fleet([app("shop"), app("blog")]);
    const out = renderNftables({ openings: openings(f, "app1") });
    expect(out).toContain('ip saddr { 10.0.0.10 } tcp dport 8957 accept comment "gunicorn of shop, from the load balancer"');
    expect(out).toContain('ip saddr { 10.0.0.10 } tcp dport 8421 accept comment "gunicorn of blog, from the load balancer"');
  });
});
