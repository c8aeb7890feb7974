import { isIP } from "node:net";
import { assertHost, assertInt, assertMatches, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** One `host` line granting a user password access to a database from an address. */
export interface PgHbaRule {
  /** Database name (or `all`). */
  readonly database: string;
  /** Role name (or `all`). */
  readonly user: string;
  /** IP (`10.0.0.11`, gets `/32` or `/128`) or CIDR (`10.0.0.0/24`). */
  readonly address: string;
  /**
   * Authentication method.
   * @default "scram-sha-256"
   */
  readonly method?: "scram-sha-256";
}

/** One `host replication` line for a streaming replica. */
export interface PgHbaReplicationRule {
  /** Replication role name. */
  readonly user: string;
  /** Replica's IP (gets `/32` or `/128`) or CIDR. */
  readonly address: string;
}

/** Options for {@link renderPgHba}. */
export interface PgHbaOptions {
  /** App access rules, in the order given (pg_hba.conf is first-match). */
  readonly rules: readonly PgHbaRule[];
  /**
   * Replica access rules, in the order given.
   * @default []
   */
  readonly replication?: readonly PgHbaReplicationRule[];
}

/** Options for {@link renderPostgresConf}. */
export interface PostgresConfOptions {
  /** `listen_addresses`, e.g. `["localhost", "10.0.0.5"]`; empty means Unix socket only. */
  readonly listenAddresses: readonly string[];
  /**
   * TCP port.
   * @default 5432
   */
  readonly port?: number;
  /**
   * `max_connections`.
   * @default 100
   */
  readonly maxConnections?: number;
  /**
   * `wal_level`; `replica` or higher is needed for streaming replicas.
   * @default "replica"
   */
  readonly walLevel?: "minimal" | "replica" | "logical";
  /**
   * `max_wal_senders`; must be 0 when `walLevel` is `minimal`.
   * @default 10
   */
  readonly maxWalSenders?: number;
  /**
   * `hot_standby`: a replica answers read-only queries while recovering.
   * @default true
   */
  readonly hotStandby?: boolean;
  /**
   * WAL archiving (continuous backup): `archive_mode = on`, the command PostgreSQL runs for
   * each finished WAL segment, and how often a segment is forced out on a quiet server.
   * @default off (no archive lines at all)
   */
  readonly archive?: PostgresArchiveOptions;
}

/** WAL archiving settings for {@link PostgresConfOptions.archive}. */
export interface PostgresArchiveOptions {
  /** `archive_command`, e.g. `pgbackrest --stanza=django-fleet archive-push %p`. */
  readonly command: string;
  /**
   * `archive_timeout` in seconds: a segment is switched (and archived) at least this often,
   * which bounds how much committed work a lost server can take with it. 0 turns it off.
   * @default 60
   */
  readonly timeoutSeconds?: number;
}

/** A bare SQL identifier; anything needing quotes in pg_hba.conf is refused. */
const PG_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/** Renders pg_hba.conf: local peer access first, then one scram line per rule. */
export function renderPgHba(o: PgHbaOptions): string {
  const row = (type: string, db: string, user: string, address: string, method: string): string =>
    [type.padEnd(7), db.padEnd(15), user.padEnd(15), address.padEnd(23), method].join(" ").trimEnd();
  const rules = o.rules.map((r, i) => {
    const what = `pg_hba rules[${i}]`;
    const method = withDefault(r.method, "scram-sha-256");
    if (method !== "scram-sha-256") throw new Error(`${what}.method ${JSON.stringify(method)} is invalid: only scram-sha-256 is allowed`);
    return row(
      "host",
      checkPgName(`${what}.database`, r.database, ["replication"]),
      checkPgName(`${what}.user`, r.user, []),
      toCidr(`${what}.address`, r.address),
      method,
    );
  });
  const replication = withDefault(o.replication, []).map((r, i) =>
    row(
      "host",
      "replication",
      checkPgName(`pg_hba replication[${i}].user`, r.user, []),
      toCidr(`pg_hba replication[${i}].address`, r.address),
      "scram-sha-256",
    ),
  );
  return renderLines([
    managedHeader("#"),
    "",
    row("# TYPE", "DATABASE", "USER", "ADDRESS", "METHOD"),
    "",
    // Peer auth for local sockets: the postgres OS user administers without a password,
    // which is how provisioning scripts run psql.
    row("local", "all", "postgres", "", "peer"),
    row("local", "all", "all", "", "peer"),
    row("host", "all", "all", "127.0.0.1/32", "scram-sha-256"),
    row("host", "all", "all", "::1/128", "scram-sha-256"),
    row("local", "replication", "all", "", "peer"),
    rules.length > 0 && "",
    rules.length > 0 && "# Application hosts",
    ...rules,
    replication.length > 0 && "",
    replication.length > 0 && "# Streaming replicas",
    ...replication,
  ]);
}

/** Renders a `conf.d/` snippet for postgresql.conf. */
export function renderPostgresConf(o: PostgresConfOptions): string {
  const listen = o.listenAddresses.map((a, i) =>
    a === "*" ? a : assertHost(`postgres listenAddresses[${i}]`, a),
  );
  const port = assertPort("postgres port", withDefault(o.port, 5432));
  const maxConnections = assertInt("postgres maxConnections", withDefault(o.maxConnections, 100), 1, 262143);
  const walLevel = withDefault(o.walLevel, "replica");
  if (!["minimal", "replica", "logical"].includes(walLevel)) {
    throw new Error(`postgres walLevel ${JSON.stringify(walLevel)} is invalid: expected minimal, replica or logical`);
  }
  const maxWalSenders = assertInt("postgres maxWalSenders", withDefault(o.maxWalSenders, 10), 0, 262143);
  if (walLevel === "minimal" && maxWalSenders > 0) {
    // PostgreSQL refuses to start with this combination.
    throw new Error(`postgres maxWalSenders must be 0 when walLevel is minimal (got ${maxWalSenders})`);
  }
  return renderLines([
    managedHeader("#"),
    `listen_addresses = '${listen.join(",")}'`,
    `port = ${port}`,
    `max_connections = ${maxConnections}`,
    // pg_hba.conf only allows scram, so passwords must be stored as scram verifiers.
    "password_encryption = 'scram-sha-256'",
    `wal_level = ${walLevel}`,
    `max_wal_senders = ${maxWalSenders}`,
    `hot_standby = ${withDefault(o.hotStandby, true) ? "on" : "off"}`,
    ...(o.archive === undefined ? [] : renderArchive(o.archive)),
  ]);
}

/**
 * The archive lines. The command sits in a single-quoted postgresql.conf string, where
 * `'` ends the string and `\` starts an escape: both are refused, like line breaks, rather
 * than escaped, so the command PostgreSQL runs is exactly the text given.
 */
function renderArchive(a: PostgresArchiveOptions): string[] {
  const command = assertMatches(
    "postgres archive.command",
    a.command,
    /^[^'\\\x00-\x1f\x7f]+$/,
    "a non-empty command without single quotes, backslashes or line breaks",
  );
  // archive_timeout's maximum is INT_MAX / 2 seconds.
  const timeout = assertInt("postgres archive.timeoutSeconds", withDefault(a.timeoutSeconds, 60), 0, 1073741823);
  return [
    // Needs a restart, not a reload; the unit's restart trigger covers the whole file.
    "archive_mode = on",
    `archive_command = '${command}'`,
    `archive_timeout = ${timeout}`,
  ];
}

/** A bare IP becomes a single-host CIDR; a CIDR is checked and kept. */
function toCidr(what: string, value: string): string {
  const [ip, bits, ...rest] = value.split("/");
  const family = isIP(ip ?? "");
  if (family === 0 || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits))) {
    throw new Error(`${what} ${JSON.stringify(value)} is invalid: expected an IP address or CIDR`);
  }
  const maxBits = family === 6 ? 128 : 32;
  if (bits === undefined) return `${ip}/${maxBits}`;
  assertInt(`${what} prefix length`, Number(bits), 0, maxBits);
  return value;
}

function checkPgName(what: string, value: string, reserved: readonly string[]): string {
  assertMatches(what, value, PG_NAME, "a plain identifier ([A-Za-z_][A-Za-z0-9_$]*) or all");
  if (reserved.includes(value)) {
    throw new Error(`${what} ${JSON.stringify(value)} is a pg_hba keyword here; use the replication rules instead`);
  }
  return value;
}
