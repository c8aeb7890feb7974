/**
 * plan/fleetPlan.ts: the plan of one host with every role, field by field, and of a fleet
 * split over eight hosts (load balancer, two app nodes, a worker, the database and a
 * replica, the broker, logging), host by host.
 */
import { describe, expect, it } from "vitest";
import { ALL_ROLES, host, hostIn, planOf, summary, target } from "../helpers/planFleet.ts";

describe("planFleet: one host with every role", () => {
  const { plan, topo } = planOf();

  it("plans every decision for the host", () => {
    expect(plan.hosts).toHaveLength(1);
    expect(plan.hosts[0]).toEqual({
      host: topo.hosts[0],
      roles: [...ALL_ROLES].sort(),
      services: ["nginx", "app", "celery", "postgresql", "rabbitmq", "rsyslog", "nftables"],
      firewall: { rules: "/etc/django-fleet/firewall.nft", unit: "django-fleet-firewall.service", unitFile: "/etc/systemd/system/django-fleet-firewall.service" },
      logging: {
        forwardConf: "/etc/rsyslog.d/90-django-fleet-forward.conf", shipsTo: "127.0.0.1", port: 10514,
        server: { conf: "/etc/rsyslog.d/10-django-fleet-server.conf", retention: "/etc/logrotate.d/django-fleet", logDir: "/var/log/fleet", allowedSenders: ["127.0.0.1", "10.1.0.1"] },
      },
      // Every client is local: loopback only, nothing to open.
      database: {
        engine: "postgresql", role: "primary", port: 5432, listenAddresses: ["localhost"],
        postgres: { dir: "/etc/postgresql/17/main", conf: "/etc/postgresql/17/main/conf.d/django-fleet.conf", hba: "/etc/postgresql/17/main/pg_hba.conf", unit: "postgresql@17-main.service" },
      },
      rabbitmq: { conf: "/etc/rabbitmq/rabbitmq.conf", unit: "rabbitmq-server.service", listenAddresses: ["127.0.0.1"], port: 5672 },
      redis: [],
      nginx: {
        defaultSite: { path: "/etc/nginx/sites-available/default", content: "# Managed by django-fleet (pulumi): Debian's default site is disabled while the app's site serves.\n" },
        sites: [{ app: "shop", path: "/etc/nginx/sites-enabled/shop.conf", upstreams: [{ host: "web", address: "127.0.0.1", port: 8000 }], staticCopy: false }],
      },
      apps: [{
        app: "shop", migrates: true,
        // Beside the load balancer: loopback. The stop waits for gunicorn's timeout (30 s) plus 5.
        gunicorn: { conf: "/etc/shop/gunicorn.conf.py", unit: "shop-gunicorn.service", stopTimeoutSeconds: 35, bindAddress: "127.0.0.1", port: 8000, socketUnit: "shop-gunicorn.socket" },
        celery: {
          workerUnit: "shop-celery-worker.service", beatUnit: "shop-celery-beat.service", scheduleFile: "/var/lib/shop/celerybeat-schedule",
          celeryApp: "shop", worker: true, beat: true,
        },
      }],
      staticCopies: [],
    });
  });

  it("places the app: its code, migrations, upstream, workers and beat on the one host", () => {
    expect(plan.apps).toEqual([{
      app: "shop", codeHosts: ["web"], migrator: "web", upstreams: [{ host: "web", address: "127.0.0.1", port: 8000 }], workers: ["web"], beat: "web",
    }]);
  });

  it("follows the host's release: Debian 12's PostgreSQL is 15", () => {
    expect(planOf({}, "debian12").plan.hosts[0]!.database!.postgres).toEqual({
      dir: "/etc/postgresql/15/main", conf: "/etc/postgresql/15/main/conf.d/django-fleet.conf", hba: "/etc/postgresql/15/main/pg_hba.conf", unit: "postgresql@15-main.service",
    });
  });

  it("names the Celery app after the settings module's package unless celeryApp is set", () => {
    const celeryApp = (app: Record<string, unknown>) => planOf({ app: app }).plan.hosts[0]!.apps[0]!.celery!.celeryApp;
    expect(celeryApp({ name: "shop", repo: "git://x/shop.git", settingsModule: "config.settings.prod", wsgiModule: "config.wsgi:application" })).toBe("config");
    expect(celeryApp({ name: "shop", repo: "git://x/shop.git", settingsModule: "config.settings", wsgiModule: "config.wsgi:application", celeryApp: "tasks" })).toBe("tasks");
  });
});

describe("planFleet: a split fleet", () => {
  // Two app hosts need shared media: uploads in an object store with a private CA.
  const { plan } = planOf({
    hosts: [
      host("lb", 1, ["loadBalancer"]), host("app1", 2, ["app"]), host("app2", 3, ["app"]), host("worker", 4, ["worker", "beat"]),
      host("db", 5, ["db"]), host("replica", 6, ["dbReplica"]), host("broker", 7, ["broker"]), host("logging", 8, ["logging"]),
    ],
    media: { storage: "s3", target: target("shop-media", "/ca/media.pem") },
  });
  const ships = "logs to 10.1.0.8:10514";
  const rows: Array<[string, string[]]> = [
    ["lb", ["services nginx rsyslog nftables", ships, "site shop -> 10.1.0.2:8000 10.1.0.3:8000 (static copy)", "static copy of shop"]],
    ["app1", ["services app rsyslog nftables", ships, "code shop migrates gunicorn 10.1.0.2:8000", "ca /ca/media.pem"]],
    ["app2", ["services app rsyslog nftables", ships, "code shop gunicorn 10.1.0.3:8000", "ca /ca/media.pem"]],
    ["worker", ["services app celery rsyslog nftables", ships, "code shop worker beat", "ca /ca/media.pem"]],
    ["db", ["services postgresql rsyslog nftables", "postgresql primary localhost,10.1.0.5:5432", ships]],
    ["replica", ["services postgresql rsyslog nftables", "postgresql replica localhost,10.1.0.6:5432", ships]],
    ["broker", ["services rabbitmq rsyslog nftables", "rabbitmq 127.0.0.1,10.1.0.7:5672", ships]],
    ["logging", ["services rsyslog nftables", `logs to 127.0.0.1:10514 from 127.0.0.1,${[1, 2, 3, 4, 5, 6, 7, 8].map((n) => `10.1.0.${n}`).join(",")}`]],
  ];
  it.each(rows)("%s", (name, want) => {
    expect(summary(hostIn(plan, name))).toEqual(want);
  });

  it("every host in config order, each with the firewall", () => {
    expect(plan.hosts.map((h) => h.host.name)).toEqual(rows.map(([n]) => n));
    for (const h of plan.hosts) expect(h.firewall.rules).toBe("/etc/django-fleet/firewall.nft");
  });

  it("places the app: code on the app and worker hosts, migrations on the first app host, a static copy for the load balancer", () => {
    expect(plan.apps).toEqual([{
      app: "shop", codeHosts: ["app1", "app2", "worker"], migrator: "app1",
      upstreams: [{ host: "app1", address: "10.1.0.2", port: 8000 }, { host: "app2", address: "10.1.0.3", port: 8000 }],
      workers: ["worker"], beat: "worker", staticCopyTo: "lb",
    }]);
  });

  it("without a load balancer or a logging host: gunicorn on the private address, nothing shipped, no site", () => {
    const { plan: bare } = planOf({
      hosts: [host("app1", 2, ["app", "worker", "beat"]), host("core", 5, ["db", "broker"])],
    });
    expect(bare.hosts.map(summary)).toEqual([
      ["services app celery rsyslog nftables", "code shop migrates gunicorn 10.1.0.2:8000 worker beat"],
      ["services postgresql rabbitmq rsyslog nftables", "postgresql primary localhost,10.1.0.5:5432", "rabbitmq 127.0.0.1,10.1.0.5:5672"],
    ]);
    expect(bare.apps[0]!.staticCopyTo).toBeUndefined();
  });
});
