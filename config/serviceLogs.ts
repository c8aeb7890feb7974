/**
 * Which log FILES each role's services write on Debian, so rsyslog can read them (imfile)
 * and ship them to the logging host with the journal. Pure, like packages.ts: what a host
 * runs follows from its roles and the stack config alone.
 *
 * Only services that write files of their own are listed. What logs to the journal is
 * shipped already and listed nowhere:
 *
 * - MariaDB: Debian's 50-server.cnf leaves `log_error` commented out ("When running under
 *   systemd, error logging goes via stdout/stderr to journald"), and our
 *   60-django-fleet.cnf sets none, so its error log is in the journal (as `mariadbd`).
 * - memcached: Debian's systemd-memcached-wrapper drops a `logfile` line from
 *   /etc/memcached.conf ("systemd capture stdout by default"), and ours has none anyway.
 * - gunicorn and Celery: our own units, logging to the journal.
 */
import type { Role, StackConfig } from "./schema.ts";

/** One log file (or glob of files) a service writes, and the program it is filed under. */
export interface ServiceLog {
  /**
   * The program name the logging host files the lines under
   * (`/var/log/fleet/<host>/<tag>.log`), e.g. `"postgresql"` or `"nginx-access"`.
   */
  readonly tag: string;
  /** Absolute path of the file; a `*` in the file name matches several (rsyslog imfile globs). */
  readonly file: string;
}

/**
 * PostgreSQL (postgresql-common's pg_ctlcluster: `-l /var/log/postgresql/postgresql-<version>-<cluster>.log`).
 * A glob on the version: 15 on Debian 12, 17 on Debian 13. Rotated copies (`.log.1`) do not match.
 */
export const POSTGRESQL_LOG: ServiceLog = { tag: "postgresql", file: "/var/log/postgresql/postgresql-*-main.log" };
/** nginx's access log (Debian's nginx.conf; our site sets no other). */
export const NGINX_ACCESS_LOG: ServiceLog = { tag: "nginx-access", file: "/var/log/nginx/access.log" };
/** nginx's error log (Debian's nginx.conf). */
export const NGINX_ERROR_LOG: ServiceLog = { tag: "nginx-error", file: "/var/log/nginx/error.log" };
/**
 * RabbitMQ's own log, `$RABBITMQ_LOG_BASE/<nodename>.log` = `/var/log/rabbitmq/rabbit@<host>.log`.
 * (Debian's unit also appends the node's stdout/stderr to rabbitmq-server.log and
 * rabbitmq-server.error.log: only the startup banner and crash dumps, not followed here.)
 */
export const RABBITMQ_LOG: ServiceLog = { tag: "rabbitmq", file: "/var/log/rabbitmq/rabbit@*.log" };
/** Redis (Debian's redis.conf: `logfile /var/log/redis/redis-server.log`; `redis-server-<name>.log` for extra instances). */
export const REDIS_LOG: ServiceLog = { tag: "redis", file: "/var/log/redis/redis-server*.log" };

/**
 * The service log files a host with these roles writes, in a fixed order (so a rendered
 * config, and the restart it triggers, only change when the set does). A host running no
 * file-logging service gets `[]`. Redis is listed once even when it is both the broker
 * and the cache (one server serves both).
 */
export function serviceLogsFor(roles: ReadonlySet<Role>, cfg: Pick<StackConfig, "database" | "broker" | "cache">): ServiceLog[] {
  const logs: ServiceLog[] = [];
  if ((roles.has("db") || roles.has("dbReplica")) && cfg.database.engine === "postgresql") logs.push(POSTGRESQL_LOG);
  if (roles.has("loadBalancer")) logs.push(NGINX_ACCESS_LOG, NGINX_ERROR_LOG);
  if (roles.has("broker") && cfg.broker.kind === "rabbitmq") logs.push(RABBITMQ_LOG);
  const redis = (roles.has("broker") && cfg.broker.kind === "redis") || (roles.has("cache") && cfg.cache.kind === "redis");
  if (redis) logs.push(REDIS_LOG);
  return logs;
}
