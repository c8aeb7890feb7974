/**
 * plan/fleetPlan.ts across the config's switches, host by host: two apps (one of them on
 * some hosts only, each with its own Redis), MariaDB with a replica, backups on and off,
 * ACME certificates, uploads on disk or in an object store with its own CA.
 */
import { describe, expect, it } from "vitest";
import { derivedPort, derivedRedisPort } from "../../config/apps.ts";
import { ALL_ROLES, host, hostIn, planOf, shop, summary, target } from "../helpers/planFleet.ts";

const blog = (over: Record<string, unknown> = {}) => ({
  name: "blog", repo: "git://x/blog.git", settingsModule: "blogsite.settings", wsgiModule: "blogsite.wsgi:application", domains: ["blog.example"], ...over,
});
const twoApps = [shop({ domains: ["shop.example"] }), blog()];
const [SHOP, BLOG] = [derivedPort("shop"), derivedPort("blog")];

describe("planFleet: two apps", () => {
  it("one web host and a database host: two sites, a default server, both apps' code, migrations and Celery on the web host", () => {
    const { plan } = planOf({ hosts: [host("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "logging"]), host("db", 21, ["db"])], app: undefined, apps: twoApps });
    expect(summary(hostIn(plan, "web"))).toEqual([
      "services nginx app celery rabbitmq rsyslog nftables",
      // Every client of RabbitMQ is local.
      "rabbitmq 127.0.0.1:5672",
      "logs to 127.0.0.1:10514 from 127.0.0.1,10.1.0.20,10.1.0.21",
      `site shop -> 127.0.0.1:${SHOP}`,
      `site blog -> 127.0.0.1:${BLOG}`,
      `code shop migrates gunicorn 127.0.0.1:${SHOP} worker beat`,
      `code blog migrates gunicorn 127.0.0.1:${BLOG} worker beat`,
    ]);
    // Both apps' code runs on another host: the database listens on its private address.
    expect(summary(hostIn(plan, "db"))).toEqual(["services postgresql rsyslog nftables", "postgresql primary localhost,10.1.0.21:5432", "logs to 10.1.0.20:10514"]);
    expect(hostIn(plan, "web").nginx!.defaultServer).toBe("/etc/nginx/sites-enabled/00-default-server.conf");
    expect(hostIn(plan, "web").nginx!.sites.map((s) => s.path)).toEqual(["/etc/nginx/sites-enabled/shop.conf", "/etc/nginx/sites-enabled/blog.conf"]);
  });

  it("one app on a host of its own too, Redis as broker and cache: each app's Redis listens only as far as its own code runs", () => {
    const { plan } = planOf({
      hosts: [host("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "cache", "db", "logging"]), host("web2", 22, ["app", "worker"])],
      app: undefined, apps: [shop({ domains: ["shop.example"] }), blog({ hosts: ["web"] })],
      broker: { kind: "redis" }, cache: { kind: "redis" }, media: { storage: "s3", target: target("shop-media") },
    });
    expect(summary(hostIn(plan, "web"))).toEqual([
      "services nginx app celery postgresql redis rsyslog nftables",
      "postgresql primary localhost,10.1.0.20:5432",
      `redis shop 127.0.0.1,10.1.0.20:${derivedRedisPort("shop")}`,
      `redis blog 127.0.0.1:${derivedRedisPort("blog")}`,
      "logs to 127.0.0.1:10514 from 127.0.0.1,10.1.0.20,10.1.0.22",
      `site shop -> 127.0.0.1:${SHOP} 10.1.0.22:${SHOP}`,
      `site blog -> 127.0.0.1:${BLOG}`,
      `code shop migrates gunicorn 127.0.0.1:${SHOP} worker beat`,
      `code blog migrates gunicorn 127.0.0.1:${BLOG} worker beat`,
    ]);
    expect(summary(hostIn(plan, "web2"))).toEqual(["services app celery rsyslog nftables", "logs to 10.1.0.20:10514", `code shop gunicorn 10.1.0.22:${SHOP} worker`]);
    expect(plan.apps.map((a) => [a.app, a.codeHosts.join(" "), a.migrator])).toEqual([["shop", "web web2", "web"], ["blog", "web", "web"]]);
  });
});

describe("planFleet: MariaDB", () => {
  const hosts = [host("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "logging"]), host("db", 21, ["db"]), host("db2", 22, ["dbReplica"])];
  const rows: Array<[string, Record<string, unknown>, string, string[]]> = [
    ["the primary, without backups", {}, "db", ["services mariadb rsyslog nftables", "mariadb primary 127.0.0.1,10.1.0.21:3306", "logs to 10.1.0.20:10514"]],
    ["the replica", {}, "db2", ["services mariadb rsyslog nftables", "mariadb replica 127.0.0.1,10.1.0.22:3306", "logs to 10.1.0.20:10514"]],
    ["the primary, backed up with restic to a store with its own CA", { backup: { target: target("shop-backups", "/ca/backup.pem") } }, "db",
      ["services mariadb restic rsyslog nftables", "mariadb primary 127.0.0.1,10.1.0.21:3306", "logs to 10.1.0.20:10514", "ca /ca/backup.pem"]],
  ];
  it.each(rows)("%s", (_name, over, name, want) => {
    const { plan } = planOf({ hosts, database: { engine: "mariadb" }, ...over });
    expect(summary(hostIn(plan, name))).toEqual(want);
    expect(hostIn(plan, name).database).toMatchObject({ mariadbConf: "/etc/mysql/mariadb.conf.d/60-django-fleet.cnf" });
    expect(hostIn(plan, name).database!.postgres).toBeUndefined();
  });
});

describe("planFleet: backups, ACME and where uploads live, on one host", () => {
  const rows: Array<[string, Record<string, unknown>, string]> = [
    ["no backups, uploads on disk", {}, "services nginx app celery postgresql rabbitmq rsyslog nftables"],
    ["backups: pgBackRest for PostgreSQL, restic for the uploads on disk", { backup: { target: target("shop-backups") } },
      "services nginx app celery postgresql pgbackrest restic rabbitmq rsyslog nftables"],
    ["backups, uploads in an object store: no restic", { backup: { target: target("shop-backups") }, media: { storage: "s3", target: target("shop-media") } },
      "services nginx app celery postgresql pgbackrest rabbitmq rsyslog nftables"],
    ["ACME: certbot on the load balancer", { loadBalancer: { serverName: "shop.example", tls: "acme", acme: { email: "ops@shop.example" } } },
      "services nginx certbot app celery postgresql rabbitmq rsyslog nftables"],
  ];
  it.each(rows)("%s", (_name, over, services) => {
    expect(summary(planOf(over).plan.hosts[0]!)[0]).toBe(services);
  });
});

describe("planFleet: the object stores' CA", () => {
  const split = [host("web", 20, ["loadBalancer", "app", "worker", "beat", "broker", "logging"]), host("db", 21, ["db"])];
  const rows: Array<[string, Record<string, unknown>, Record<string, string[] | undefined>]> = [
    ["no private CA: no bundle", { hosts: split, backup: { target: target("shop-backups") }, media: { storage: "s3", target: target("shop-media") } }, { web: undefined, db: undefined }],
    ["the backups' CA on the database host, the uploads' on the code hosts", {
      hosts: split, backup: { target: target("shop-backups", "/ca/backup.pem") }, media: { storage: "s3", target: target("shop-media", "/ca/media.pem") },
    }, { web: ["/ca/media.pem"], db: ["/ca/backup.pem"] }],
    ["one host: both, the backups' first", {
      hosts: [host("web", 1, ALL_ROLES)], backup: { target: target("shop-backups", "/ca/backup.pem") }, media: { storage: "s3", target: target("shop-media", "/ca/media.pem") },
    }, { web: ["/ca/backup.pem", "/ca/media.pem"] }],
    ["one host, uploads in the backups' store: its CA once", {
      backup: { target: target("shop-backups", "/ca/backup.pem") }, media: { storage: "s3", shareBackupTarget: true },
    }, { web: ["/ca/backup.pem"] }],
    ["uploads on disk: the media store's CA is nowhere", { hosts: split, backup: { target: target("shop-backups", "/ca/backup.pem") } }, { web: undefined, db: ["/ca/backup.pem"] }],
  ];
  it.each(rows)("%s", (_name, over, want) => {
    const { plan } = planOf(over);
    for (const [name, files] of Object.entries(want)) {
      expect(hostIn(plan, name).objectStoreCa, name).toEqual(files && { path: "/etc/django-fleet/object-store-ca.pem", files });
    }
  });
});
