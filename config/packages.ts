/**
 * Which Debian packages each role needs. Pure; the Host component installs the union for
 * a host in one apt run (one SSH round trip, one dpkg lock).
 */
import type { Role } from "./schema.ts";
import type { AppConfig, StackConfig } from "./schema.ts";
import { configApps } from "./apps.ts";

/** Every host: logging, time sync, unattended security updates, TLS roots. */
export const BASE_PACKAGES = ["ca-certificates", "rsyslog", "logrotate", "systemd-timesyncd", "unattended-upgrades", "curl", "nftables", "netbase"] as const;

export function packagesFor(roles: ReadonlySet<Role>, cfg: Pick<StackConfig, "broker" | "database" | "cache"> & { app?: Pick<AppConfig, "packages">; apps?: ReadonlyArray<Pick<AppConfig, "packages">>; backup?: Pick<StackConfig["backup"], "target">; media?: Pick<StackConfig["media"], "storage">; loadBalancer?: Pick<StackConfig["loadBalancer"], "tls"> }): string[] {
  const p = new Set<string>(BASE_PACKAGES);
  const code = roles.has("app") || roles.has("worker") || roles.has("beat") || roles.has("loadBalancer");
  if (code) ["git", "python3-venv", "python3-dev"].forEach((x) => p.add(x));
  // mysqlclient, Django's MariaDB driver, ships no Linux wheels: pip builds it.
  if (code && cfg.database.engine === "mariadb") ["build-essential", "pkg-config", "default-libmysqlclient-dev"].forEach((x) => p.add(x));
  // What the app asks for (app.packages), e.g. libpq-dev to build psycopg[c].
  // (Every app's, on every host that runs code: a few more packages, one apt run.)
  if (code) configApps(cfg).forEach((a) => a.packages.forEach((x) => p.add(x)));
  if (roles.has("loadBalancer")) ["nginx", "openssl"].forEach((x) => p.add(x));
  // Certificates from an ACME server: certbot gets them, and its timer renews them.
  if (roles.has("loadBalancer") && cfg.loadBalancer?.tls === "acme") p.add("certbot");
  if (roles.has("db") || roles.has("dbReplica")) p.add(cfg.database.engine === "mariadb" ? "mariadb-server" : "postgresql");
  // Backups: pgBackRest (its retention planner is Python), or restic for MariaDB dumps.
  // Uploads kept on the app host's disk are backed up with restic.
  if (roles.has("app") && cfg.backup?.target && cfg.media?.storage === "local") ["restic", "python3"].forEach((x) => p.add(x));
  if (roles.has("db") && cfg.backup?.target) (cfg.database.engine === "mariadb" ? ["restic", "python3"] : ["pgbackrest", "python3"]).forEach((x) => p.add(x));
  if (roles.has("cache") && cfg.cache.kind !== "none") p.add(cfg.cache.kind === "redis" ? "redis-server" : "memcached");
  if (roles.has("broker")) p.add(cfg.broker.kind === "rabbitmq" ? "rabbitmq-server" : "redis-server");
  return [...p].sort();
}
