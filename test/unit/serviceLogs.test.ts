import { describe, expect, it } from "vitest";
import { ROLES, type Role, type StackConfig } from "../../config/schema.ts";
import { serviceLogsFor, type ServiceLog } from "../../config/serviceLogs.ts";
import { renderRsyslogClient } from "../../services/rsyslog/rsyslog.ts";

type Services = Pick<StackConfig, "database" | "broker" | "cache">;

function cfg(
  engine: "postgresql" | "mariadb" = "postgresql",
  broker: "rabbitmq" | "redis" = "rabbitmq",
  cache: "none" | "redis" | "memcached" = "none",
): Services {
  return { database: { engine, port: engine === "mariadb" ? 3306 : 5432 }, broker: { kind: broker }, cache: { kind: cache } };
}

const PG: ServiceLog = { tag: "postgresql", file: "/var/log/postgresql/postgresql-*-main.log" };
const NGINX: ServiceLog[] = [
  { tag: "nginx-access", file: "/var/log/nginx/access.log" },
  { tag: "nginx-error", file: "/var/log/nginx/error.log" },
];
const RABBIT: ServiceLog = { tag: "rabbitmq", file: "/var/log/rabbitmq/rabbit@*.log" };
const REDIS: ServiceLog = { tag: "redis", file: "/var/log/redis/redis-server*.log" };

describe("serviceLogsFor", () => {
  const cases: Array<[string, Role[], Services, ServiceLog[]]> = [
    // Roles whose services log to the journal only (our own units) ship nothing extra.
    ["app, worker, beat", ["app", "worker", "beat"], cfg(), []],
    ["logging only", ["logging"], cfg(), []],
    ["db, postgresql", ["db"], cfg("postgresql"), [PG]],
    ["dbReplica, postgresql", ["dbReplica"], cfg("postgresql"), [PG]],
    // MariaDB's error log goes to the journal on Debian (no log_error set).
    ["db, mariadb", ["db"], cfg("mariadb"), []],
    ["dbReplica, mariadb", ["dbReplica"], cfg("mariadb"), []],
    ["loadBalancer", ["loadBalancer"], cfg(), NGINX],
    ["broker, rabbitmq", ["broker"], cfg("postgresql", "rabbitmq"), [RABBIT]],
    ["broker, redis", ["broker"], cfg("postgresql", "redis"), [REDIS]],
    ["cache, redis", ["cache"], cfg("postgresql", "rabbitmq", "redis"), [REDIS]],
    // memcached logs to the journal (Debian's wrapper drops `logfile`).
    ["cache, memcached", ["cache"], cfg("postgresql", "rabbitmq", "memcached"), []],
    ["cache, none", ["cache"], cfg("postgresql", "rabbitmq", "none"), []],
    ["broker redis and cache redis: one Redis, listed once", ["broker", "cache"], cfg("postgresql", "redis", "redis"), [REDIS]],
    ["broker rabbitmq and cache redis", ["broker", "cache"], cfg("postgresql", "rabbitmq", "redis"), [RABBIT, REDIS]],
    ["broker rabbitmq and cache memcached", ["broker", "cache"], cfg("postgresql", "rabbitmq", "memcached"), [RABBIT]],
    // The config's kinds matter only on the hosts holding the role.
    ["app host, broker and cache redis elsewhere", ["app"], cfg("postgresql", "redis", "redis"), []],
    ["every role (dev stack), postgresql and rabbitmq", [...ROLES], cfg("postgresql", "rabbitmq", "none"), [PG, ...NGINX, RABBIT]],
    ["every role (dev stack), mariadb, redis and redis", [...ROLES], cfg("mariadb", "redis", "redis"), [...NGINX, REDIS]],
    ["every role (dev stack), postgresql, redis and memcached", [...ROLES], cfg("postgresql", "redis", "memcached"), [PG, ...NGINX, REDIS]],
  ];

  it.each(cases)("%s", (_name, roles, c, want) => {
    expect(serviceLogsFor(new Set(roles), c)).toEqual(want);
  });

  it("a host with no roles gets []", () => {
    expect(serviceLogsFor(new Set(), cfg("postgresql", "redis", "redis"))).toEqual([]);
  });

  it("order does not depend on the order of the roles", () => {
    const forward = serviceLogsFor(new Set<Role>([...ROLES]), cfg());
    const backward = serviceLogsFor(new Set<Role>([...ROLES].reverse()), cfg());
    expect(backward).toEqual(forward);
  });

  it("every combination renders a valid client config, files unique", () => {
    for (const engine of ["postgresql", "mariadb"] as const) {
      for (const broker of ["rabbitmq", "redis"] as const) {
        for (const cache of ["none", "redis", "memcached"] as const) {
          const files = serviceLogsFor(new Set<Role>([...ROLES]), cfg(engine, broker, cache));
          expect(new Set(files.map((f) => f.file)).size).toBe(files.length);
          const out = renderRsyslogClient({ serverAddress: "10.0.0.5", files });
          for (const f of files) expect(out).toContain(`    File="${f.file}"\n    Tag="${f.tag}:"\n`);
        }
      }
    }
  });
});
