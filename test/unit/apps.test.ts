/**
 * Several apps on one fleet (config/apps.ts and the per-app rules of config/topology.ts):
 * tables of configs to the exact problems they are refused with, and the ports each app
 * gets (a derived port never moves when other apps come, go or change places).
 */
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../config/load.ts";
import { derivedPort, derivedRedisPort, resolveApps } from "../../config/apps.ts";
import type { Role } from "../../config/schema.ts";
import { buildTopology } from "../../config/topology.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const ALL_ROLES: Role[] = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"];

/** One app of `apps`, with its own host name. */
function app(name: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, repo: `git://x/${name}.git`, settingsModule: `${name}.settings`, wsgiModule: `${name}.wsgi:application`, domains: [`${name}.example`], ...over };
}

function host(name: string, roles: Role[], n: number): Record<string, unknown> {
  return { name, address: `10.0.0.${n}`, hostKey: KEY, roles };
}

/** Raw Pulumi config (objects as JSON strings), parsed: two apps on one dev host unless `over` says otherwise. */
function config(over: Record<string, unknown> = {}) {
  const base: Record<string, unknown> = {
    hosts: [host("fleet-dev", ALL_ROLES, 10)],
    apps: [app("shop"), app("blog")],
    sshPrivateKeyPath: "/root/.ssh/id",
    ...over,
  };
  return parseConfig(Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined).map(([k, v]) =>
    [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));
}

/** The problems parseConfig, then buildTopology, refuse `over` with; "accepted" if none. */
function problems(over: Record<string, unknown>): string[] | "accepted" {
  try {
    buildTopology(config(over));
    return "accepted";
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

const clash = (key: string, host: string, what: string, port: number, first: string) =>
  `${key}: on host "${host}", ${what} would listen on port ${port}, which ${first} uses already. Fix: choose another port, or move one of the roles to another host`;

/** A name other than `name` whose derived port is `name`'s, found by brute force. */
function sharesPortWith(name: string): string {
  for (let i = 0; i < 100_000; i++) {
    const other = `app${i}`;
    if (other !== name && derivedPort(other) === derivedPort(name)) return other;
  }
  throw new Error(`no name shares ${name}'s derived port`);
}
const TWIN = sharesPortWith("shop");

describe("derivedRedisPort", () => {
  it("is 6380 + FNV-1a(name) % 620, pinned, and apps' defaults differ", () => {
    expect(["shop", "blog", "fleetdemo", "journal"].map((n) => [n, derivedRedisPort(n)])).toEqual([
      ["shop", 6397], ["blog", 6801], ["fleetdemo", 6688], ["journal", 6588],
    ]);
    for (let i = 0; i < 2000; i++) {
      const p = derivedRedisPort(`app${i}`);
      expect(p).toBeGreaterThanOrEqual(6380);
      expect(p).toBeLessThanOrEqual(6999);
    }
  });

  it("two apps with Redis get servers on their own ports; the one-app `app` keeps 6379", () => {
    const [shop, blog] = resolveApps(config({ broker: "{\"kind\":\"redis\"}" }), []);
    expect([shop!.redisPort, blog!.redisPort]).toEqual([6397, 6801]);
    const [only] = resolveApps(config({ apps: undefined, app: app("shop"), broker: "{\"kind\":\"redis\"}" }), []);
    expect(only!.redisPort).toBe(6379);
  });
});

describe("derivedPort", () => {
  it("is 8100 + FNV-1a(name) % 900: these ports are pinned (a new hash would move every app)", () => {
    expect(["shop", "blog", "fleetdemo", "wiki", "crm", "a"].map((n) => [n, derivedPort(n)])).toEqual([
      ["shop", 8957], ["blog", 8421], ["fleetdemo", 8668], ["wiki", 8725], ["crm", 8843], ["a", 8620],
    ]);
  });

  it("stays in 8100-8999 and is the same for the same name", () => {
    for (let i = 0; i < 2000; i++) {
      const p = derivedPort(`app${i}`);
      expect(p).toBeGreaterThanOrEqual(8100);
      expect(p).toBeLessThanOrEqual(8999);
      expect(derivedPort(`app${i}`)).toBe(p);
    }
  });

  it("the brute-forced twin really shares shop's port", () => {
    expect(TWIN).not.toBe("shop");
    expect(derivedPort(TWIN)).toBe(8957);
  });
});

describe("ports: each app's port does not depend on the other apps", () => {
  const NAMES = ["shop", "blog", "fleetdemo", "wiki", "crm"];
  /** Each app's resolved port, by name, for a config whose `apps` are `names` (in that order). */
  function ports(names: readonly string[], over: Record<string, Record<string, unknown>> = {}): Record<string, number> {
    const found: string[] = [];
    const plans = resolveApps(config({ apps: names.map((n) => app(n, over[n])) }), found);
    expect(found).toEqual([]);
    return Object.fromEntries(plans.map((p) => [p.name, p.port]));
  }
  const all = ports(NAMES);

  it("the five apps have five different derived ports", () => {
    expect(new Set(Object.values(all)).size).toBe(NAMES.length);
    for (const n of NAMES) expect(all[n]).toBe(derivedPort(n));
  });

  const variants: Array<[string, string[]]> = [
    ["reversed", [...NAMES].reverse()],
    ["rotated", [...NAMES.slice(2), ...NAMES.slice(0, 2)]],
    ["one app added at the front", ["newapp", ...NAMES]],
    ["one app added at the end", [...NAMES, "newapp"]],
    ...NAMES.map((n): [string, string[]] => [`${n} removed`, NAMES.filter((x) => x !== n)]),
    ["only two left, in another order", ["wiki", "shop"]],
  ];
  for (const [name, names] of variants) {
    it(`${name}: every app that stays keeps its port`, () => {
      const got = ports(names);
      expect(Object.keys(got).sort()).toEqual([...names].sort());
      for (const n of names) expect(got[n], n).toBe(n === "newapp" ? derivedPort("newapp") : all[n]);
    });
  }

  it("an explicit port wins, and moves no other app", () => {
    const got = ports(NAMES, { blog: { port: 9001 } });
    expect(got).toEqual({ ...all, blog: 9001 });
    const plans = resolveApps(config({ apps: [app("shop"), app("blog", { port: 9001 })] }), []);
    expect(plans.map((p) => [p.key, p.port, p.portSet])).toEqual([["apps[0]", 8957, false], ["apps[1]", 9001, true]]);
  });

  it("an explicit port equal to the derived one still counts as set", () => {
    const plans = resolveApps(config({ apps: [app("shop", { port: 8957 }), app("blog")] }), []);
    expect(plans.map((p) => [p.port, p.portSet])).toEqual([[8957, true], [8421, false]]);
  });

  it("the `app` shorthand gets 8000 (the one-app program's port); one entry of `apps` gets its derived port", () => {
    const shorthand = resolveApps(config({ apps: undefined, app: app("shop", { domains: undefined }) }), []);
    expect(shorthand.map((p) => [p.key, p.index, p.port, p.portSet])).toEqual([["app", 0, 8000, false]]);
    const one = resolveApps(config({ apps: [app("shop", { domains: undefined })] }), []);
    expect(one.map((p) => [p.key, p.index, p.port, p.portSet])).toEqual([["apps[0]", 0, 8957, false]]);
    const set = resolveApps(config({ apps: undefined, app: app("shop", { domains: undefined, port: 8200 }) }), []);
    expect(set.map((p) => [p.port, p.portSet])).toEqual([[8200, true]]);
  });
});

describe("resolveApps: per-app defaults", () => {
  it("several apps: each its own database, role, host names and Redis database 0; Celery from the fleet's", () => {
    const found: string[] = [];
    const plans = resolveApps(config({ celery: { concurrency: 3, queues: ["a", "b"] }, apps: [app("shop"), app("blog", { celery: { concurrency: 1, beat: false }, domains: ["blog.example", "*.blog.example"] })] }), found);
    expect(found).toEqual([]);
    expect(plans.map((p) => ({ key: p.key, index: p.index, serverName: p.serverName, database: p.database, celery: p.celery, redisDb: p.redisDb, mediaLocation: p.mediaLocation }))).toEqual([
      { key: "apps[0]", index: 0, serverName: "shop.example", database: { name: "shop", user: "shop" }, celery: { concurrency: 3, queues: ["a", "b"], beat: true }, redisDb: 0, mediaLocation: "media/shop" },
      { key: "apps[1]", index: 1, serverName: "blog.example *.blog.example", database: { name: "blog", user: "blog" }, celery: { concurrency: 1, queues: ["a", "b"], beat: false }, redisDb: 0, mediaLocation: "media/blog" },
    ]);
  });

  it("one app keeps the fleet-wide database names and serverName, as the one-app program did", () => {
    const plans = resolveApps(config({ apps: undefined, app: app("shop", { domains: undefined }), database: { name: "shopdb", user: "shopper" }, loadBalancer: { serverName: "shop.example www.shop.example" } }), []);
    expect(plans.map((p) => [p.serverName, p.database, p.mediaLocation])).toEqual([["shop.example www.shop.example", { name: "shopdb", user: "shopper" }, "media"]]);
  });

  it("per-app database names, host names and Redis database are taken as set", () => {
    const found: string[] = [];
    const plans = resolveApps(config({
      broker: { kind: "redis" },
      apps: [app("shop", { database: { name: "shop_db", user: "shop_role" } }), app("blog", { broker: { redisDb: 3 } })],
    }), found);
    expect(found).toEqual([]);
    expect(plans.map((p) => [p.database, p.redisDb])).toEqual([[{ name: "shop_db", user: "shop_role" }, 0], [{ name: "blog", user: "blog" }, 3]]);
  });
});

describe("several apps: valid fleets", () => {
  it("two apps on one host: both run everywhere, on their derived ports", () => {
    const t = buildTopology(config());
    expect(t.deployments.map((d) => [d.app.name, d.app.port, d.appHosts.map((h) => h.name), d.workers.map((h) => h.name), d.beat?.name, d.codeHosts.map((h) => h.name)])).toEqual([
      ["shop", 8957, ["fleet-dev"], ["fleet-dev"], "fleet-dev", ["fleet-dev"]],
      ["blog", 8421, ["fleet-dev"], ["fleet-dev"], "fleet-dev", ["fleet-dev"]],
    ]);
  });

  it("apps[].hosts splits the fleet; an app whose beat is off needs no beat host", () => {
    const t = buildTopology(config({
      hosts: [host("web1", ["loadBalancer", "app", "worker", "beat", "db", "broker"], 1), host("web2", ["app", "worker"], 2)],
      media: { storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "media", accessKeyId: "AKID", secretAccessKey: "SECRET" } },
      apps: [app("shop", { hosts: ["web1"] }), app("blog", { hosts: ["web2"], celery: { beat: false } })],
    }));
    expect(t.deployments.map((d) => [d.app.name, d.appHosts.map((h) => h.name), d.workers.map((h) => h.name), d.beat?.name, d.codeHosts.map((h) => h.name)])).toEqual([
      ["shop", ["web1"], ["web1"], "web1", ["web1"]],
      ["blog", ["web2"], ["web2"], undefined, ["web2"]],
    ]);
    // The fleet-wide lists still name every host that runs some app.
    expect(t.codeHosts.map((h) => h.name)).toEqual(["web1", "web2"]);
  });

  it("two apps may share a port when no host runs both", () => {
    expect(problems({
      hosts: [host("web1", ["loadBalancer", "app", "worker", "beat", "db", "broker"], 1), host("web2", ["app", "worker"], 2)],
      media: { storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "media", accessKeyId: "AKID", secretAccessKey: "SECRET" } },
      apps: [app("shop", { hosts: ["web1"], port: 9000 }), app("blog", { hosts: ["web2"], port: 9000, celery: { beat: false } })],
    })).toBe("accepted");
  });

  it("a Redis broker: apps on Redis databases 0 and 1 without a Redis cache", () => {
    expect(problems({ broker: { kind: "redis" }, apps: [app("shop"), app("blog", { broker: { redisDb: 1 } })] })).toBe("accepted");
  });
});

describe("several apps: refused, each with its exact problem", () => {
  const split = [host("web", ["loadBalancer", "app"], 1), host("work", ["worker", "beat", "db", "broker", "logging"], 2)];
  const derivedShop = derivedPort("shop");
  const derivedBlog = derivedPort("blog");
  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ["two apps with the same name", { apps: [app("shop"), app("shop", { domains: ["blog.example"], port: 9000, database: { name: "shop2", user: "shop2" } })] }, [
      'apps[1].name: "shop" is also the name of apps[0]; an app\'s name is its user, /srv/<name> and its units. Fix: give every app its own name',
    ]],
    ["two apps claiming the same host name", { apps: [app("shop", { domains: ["shop.example", "www.shop.example"] }), app("blog", { domains: ["blog.example", "www.shop.example"] })] }, [
      'apps[1].domains: "www.shop.example" is also a host name of apps[0] (shop); a host name leads to one app. Fix: remove it from one of them',
    ]],
    ["several apps, one without domains", { apps: [app("shop"), app("blog", { domains: undefined })] }, [
      "apps[1].domains: missing; with several apps, nginx picks the app by host name. Fix: `npm run pulumi -- config set --path 'apps[1].domains[0]' shop.example`",
    ]],
    ["loadBalancer.serverName set with several apps", { loadBalancer: { serverName: "shop.example" } }, [
      "loadBalancer.serverName: names one app's host names, but the stack has 2 apps. Fix: give each app its own apps[i].domains and `npm run pulumi -- config rm --path loadBalancer.serverName`",
    ]],
    ["database.name set with several apps", { database: { name: "shop" } }, [
      "database.name: names one app's database, but the stack has 2 apps. Fix: move it to apps[i].database.name and `npm run pulumi -- config rm --path database.name`",
    ]],
    ["database.user set with several apps", { database: { user: "shop" } }, [
      "database.user: names one app's database role, but the stack has 2 apps. Fix: move it to apps[i].database.user and `npm run pulumi -- config rm --path database.user`",
    ]],
    ["two apps with the same database name", { apps: [app("shop"), app("blog", { database: { name: "shop" } })] }, [
      "apps[1].database.name: \"shop\" is also the database of apps[0] (shop); each app has its own database. Fix: `npm run pulumi -- config set --path 'apps[1].database.name' <name>`",
    ]],
    ["two apps with the same database role", { apps: [app("shop", { database: { user: "web" } }), app("blog", { database: { user: "web" } })] }, [
      "apps[1].database.user: \"web\" is also the database role of apps[0] (shop); each app has its own role. Fix: `npm run pulumi -- config set --path 'apps[1].database.user' <name>`",
    ]],
    ["an app's hosts name a host that does not exist", { hosts: split, apps: [app("shop"), app("blog", { hosts: ["web", "work", "nowhere"] })] }, [
      'apps[1].hosts[2]: there is no host "nowhere". Fix: name one of web, work',
    ]],
    ["an app's hosts name a host with none of the roles app, worker and beat", {
      hosts: [...split, host("db2", ["dbReplica"], 3)], apps: [app("shop"), app("blog", { hosts: ["db2", "web", "work"] })],
    }, [
      'apps[1].hosts[0]: host "db2" has none of the roles app, worker and beat, so it cannot run blog. Fix: add the role "app" or "worker" to it, or remove it from apps[1].hosts',
    ]],
    ["an app's hosts hold no app host", { hosts: split, apps: [app("shop"), app("blog", { hosts: ["work"] })] }, [
      'apps[1].hosts: none of them has the role "app", so nothing would serve blog. Fix: add a host with the role "app" to apps[1].hosts',
    ]],
    ["an app's hosts hold no worker host", {
      hosts: [host("web", ["loadBalancer", "app", "beat"], 1), host("work", ["worker", "db", "broker"], 2)], apps: [app("shop"), app("blog", { hosts: ["web"] })],
    }, [
      'apps[1].hosts: none of them has the role "worker", so blog\'s Celery tasks would never run. Fix: add a host with the role "worker" to apps[1].hosts',
    ]],
    ["an app's hosts leave out the beat host while its beat is on", {
      hosts: [host("web", ["loadBalancer", "app", "worker"], 1), host("work", ["worker", "beat", "db", "broker"], 2)], apps: [app("shop"), app("blog", { hosts: ["web"] })],
    }, [
      'apps[1].hosts: the beat host "work" is not among them, and blog\'s beat runs there. Fix: add "work" to apps[1].hosts, or `npm run pulumi -- config set --path \'apps[1].celery.beat\' false`',
    ]],
    ["two apps set to the same port on one host: the later one is named", { apps: [app("shop", { port: 9000 }), app("blog", { port: 9000 })] }, [
      clash("apps[1].port", "fleet-dev", "apps[1].port", 9000, "apps[0].port"),
    ]],
    ["an app set to another's derived port: the one that was set is named", { apps: [app("shop", { port: derivedBlog }), app("blog")] }, [
      clash("apps[0].port", "fleet-dev", "apps[1].port", derivedBlog, "apps[0].port"),
    ]],
    ["the other way round: the later app set to the first's derived port", { apps: [app("shop"), app("blog", { port: derivedShop })] }, [
      clash("apps[1].port", "fleet-dev", "apps[1].port", derivedShop, "apps[0].port"),
    ]],
    [`two derived ports that collide (shop and ${TWIN}): the later app is named`, { apps: [app("shop"), app(TWIN)] }, [
      clash("apps[1].port", "fleet-dev", "apps[1].port", derivedShop, "apps[0].port"),
    ]],
    ["an app's port is the database's", { apps: [app("shop"), app("blog", { port: 5432 })] }, [
      clash("apps[1].port", "fleet-dev", "database.port", 5432, "apps[1].port"),
    ]],
    ["database.port set to an app's derived port: database.port is named", { database: { port: derivedBlog } }, [
      clash("database.port", "fleet-dev", "database.port", derivedBlog, "apps[1].port"),
    ]],
    ["a Redis broker: two apps on the same Redis port", { broker: { kind: "redis" }, apps: [app("shop", { redisPort: 7000 }), app("blog", { redisPort: 7000 })] }, [
      // Each app's server is on the Redis host(s): two on one port is a clash there.
      clash("apps[1].redisPort", "fleet-dev", "apps[1].redisPort", 7000, "apps[0].redisPort"),
    ]],
    ["a Redis cache: two apps on the same Redis port", {
      cache: { kind: "redis" }, hosts: [host("fleet-dev", [...ALL_ROLES, "cache"], 10)],
      apps: [app("shop", { redisPort: 7000 }), app("blog", { redisPort: 7000 })],
    }, [
      // Each app's server is on the Redis host(s): two on one port is a clash there.
      clash("apps[1].redisPort", "fleet-dev", "apps[1].redisPort", 7000, "apps[0].redisPort"),
    ]],
    ["a Redis broker: an app on Redis database 1 with a Redis cache", {
      broker: { kind: "redis" }, cache: { kind: "redis" }, hosts: [host("fleet-dev", [...ALL_ROLES, "cache"], 10)],
      apps: [app("shop"), app("blog", { broker: { redisDb: 1 } })],
    }, [
      "apps[1].broker.redisDb: 1 holds the app's Redis cache. Fix: `npm run pulumi -- config set --path 'apps[1].broker.redisDb' 2` (any of 0, 2-15)",
    ]],
    ["a Redis broker: an app's Redis port is another app's gunicorn port", { broker: { kind: "redis" }, apps: [app("shop", { port: 7000 }), app("blog", { redisPort: 7000 })] }, [
      clash("apps[1].redisPort", "fleet-dev", "apps[1].redisPort", 7000, "apps[0].port"),
    ]],
    ["several apps with MariaDB", { database: { engine: "mariadb" } }, [
      "apps: 2 apps with database.engine \"mariadb\"; several apps share a PostgreSQL server only, for now (MariaDB's backups and replicas carry one database). Fix: use database.engine \"postgresql\", or one stack per app",
    ]],
    ["S3 uploads: two apps under the same prefix", {
      media: { storage: "s3", target: { endpoint: "https://s3.example.net", bucket: "media", accessKeyId: "AKID", secretAccessKey: "SECRET" } },
      apps: [app("shop", { mediaLocation: "uploads" }), app("blog", { mediaLocation: "uploads" })],
    }, [
      'apps[1].mediaLocation: "uploads" is also where apps[0] (shop) keeps its uploads. Fix: give each app its own prefix',
    ]],
    ["neither app nor apps", { apps: undefined }, [
      "app: is required (or apps, a list of apps). Fix: `npm run pulumi -- config set --path 'app' <value>`",
    ]],
    ["apps empty", { apps: [] }, [
      "apps: needs at least one app, got []. Fix: `npm run pulumi -- config set --path 'apps' <value>`",
    ]],
    ["app and apps both set", { app: app("shop", { domains: undefined }) }, [
      "app: and apps are both set; app is shorthand for apps with one entry. Fix: move it into apps (`npm run pulumi -- config rm app` after copying it as apps[0])",
    ]],
  ];

  it("has distinct case names", () => {
    expect(new Set(cases.map(([name]) => name)).size).toBe(cases.length);
  });

  for (const [name, over, expected] of cases) {
    it(`refuses: ${name}`, () => {
      // Each case breaks exactly one rule, so exactly its problem is reported.
      expect(problems(over)).toEqual(expected);
    });
  }

  it("a duplicated app also duplicates its defaults: every clash is reported at once", () => {
    expect(problems({ apps: [app("shop"), app("shop", { domains: ["blog.example"] })] })).toEqual([
      'apps[1].name: "shop" is also the name of apps[0]; an app\'s name is its user, /srv/<name> and its units. Fix: give every app its own name',
      "apps[1].database.name: \"shop\" is also the database of apps[0] (shop); each app has its own database. Fix: `npm run pulumi -- config set --path 'apps[1].database.name' <name>`",
      "apps[1].database.user: \"shop\" is also the database role of apps[0] (shop); each app has its own role. Fix: `npm run pulumi -- config set --path 'apps[1].database.user' <name>`",
      clash("apps[1].port", "fleet-dev", "apps[1].port", derivedShop, "apps[0].port"),
    ]);
  });

  it("the `app` shorthand's port clash is named app.port", () => {
    expect(problems({ apps: undefined, app: app("shop", { domains: undefined, port: 5432 }) })).toEqual([
      clash("app.port", "fleet-dev", "database.port", 5432, "app.port"),
    ]);
  });
});

describe("several apps with certificates from an ACME server (loadBalancer.tls acme)", () => {
  const acme = { tls: "acme", acme: { email: "ops@shop.example" } };
  const fix = (key: string) => `Fix: \`npm run pulumi -- config set --path '${key}' shop.example\` (a DNS name whose A record points at the load balancer)`;

  it("each app's host names come from its own domains (or the load balancer's names, for one app without)", () => {
    expect(resolveApps(config(), []).map((p) => p.namesKey)).toEqual(["apps[0].domains", "apps[1].domains"]);
    expect(resolveApps(config({ apps: [app("shop", { domains: undefined })] }), []).map((p) => p.namesKey)).toEqual(["loadBalancer.serverName"]);
    expect(resolveApps(config({ apps: undefined, app: app("shop") }), []).map((p) => p.namesKey)).toEqual(["app.domains"]);
    expect(resolveApps(config({ apps: undefined, app: app("shop", { domains: undefined }) }), []).map((p) => p.namesKey)).toEqual(["loadBalancer.serverName"]);
  });

  it("two apps with DNS names are accepted", () => {
    expect(problems({ loadBalancer: acme, apps: [app("shop", { domains: ["shop.example", "www.shop.example"] }), app("blog")] })).toBe("accepted");
  });

  const cases: Array<[string, Record<string, unknown>, string[]]> = [
    ["a wildcard in the second app's domains: that entry is named", { apps: [app("shop"), app("blog", { domains: ["blog.example", "*.blog.example"] })] }, [
      `apps[1].domains[1]: "*.blog.example" is a wildcard, which only the DNS-01 challenge can prove; tls "acme" answers HTTP-01 only, so list each name instead. ${fix("apps[1].domains[1]")}`,
    ]],
    ["an IP address in the first app's domains", { apps: [app("shop", { domains: ["198.18.0.10"] }), app("blog")] }, [
      `apps[0].domains[0]: "198.18.0.10" is an IP address; tls "acme" gets certificates for DNS names only (point a DNS name at the load balancer). ${fix("apps[0].domains[0]")}`,
    ]],
    ["a name without a dot in each app: both named", { apps: [app("shop", { domains: ["shop"] }), app("blog", { domains: ["blog.example", "blog"] })] }, [
      `apps[0].domains[0]: "shop" has no dot; an ACME server issues certificates for fully qualified domain names only. ${fix("apps[0].domains[0]")}`,
      `apps[1].domains[1]: "blog" has no dot; an ACME server issues certificates for fully qualified domain names only. ${fix("apps[1].domains[1]")}`,
    ]],
    ["one app in apps without domains: the load balancer's _ is named", { apps: [app("shop", { domains: undefined })] }, [
      "loadBalancer.serverName: \"_\" is nginx's catch-all name (any host), which no certificate can name. Fix: `npm run pulumi -- config set --path loadBalancer.serverName shop.example` (the DNS names whose A records point at the load balancer, separated by spaces)",
    ]],
    ["an app with its own certificate", { apps: [app("shop"), app("blog", { tls: { certificatePath: "/etc/ssl/blog.pem", keyPath: "/etc/ssl/blog.key" } })] }, [
      "apps[1].tls: a certificate is set, but loadBalancer.tls is \"acme\": certificates come from the ACME server. Fix: `npm run pulumi -- config rm --path 'apps[1].tls'`",
    ]],
  ];
  for (const [name, over, expected] of cases) {
    it(`refuses: ${name}`, () => {
      expect(problems({ loadBalancer: acme, ...over })).toEqual(expected);
    });
  }

  it("several apps without domains: only the missing domains are reported, not an empty name", () => {
    expect(problems({ loadBalancer: acme, apps: [app("shop"), app("blog", { domains: undefined })] })).toEqual([
      "apps[1].domains: missing; with several apps, nginx picks the app by host name. Fix: `npm run pulumi -- config set --path 'apps[1].domains[0]' shop.example`",
    ]);
  });
});
