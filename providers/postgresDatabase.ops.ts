/**
 * Operations of the PostgresDatabase provider: an app's login role (with its password)
 * and its database, on the PostgreSQL server of a host.
 *
 * Only its owner (and the superuser) may connect to it: CONNECT is revoked from PUBLIC,
 * so another app's role on the same server is refused (refresh notices a grant put back).
 *
 * Data is never dropped: delete leaves the database and role in place (a config change
 * or a replaced resource must not lose a production database); dropping one is a
 * deliberate act outside Pulumi. Refresh notices a dropped role or database, and the
 * next `up` creates it again.
 */
import { cmd, heredoc, script } from "../lib/shell.ts";
import { sqlIdent, sqlLiteral } from "../lib/sql.ts";
import { run, type Connection } from "./ssh.ts";

export interface DatabaseState {
  readonly connection: Connection;
  readonly database: string;
  readonly owner: string;
  readonly password: string;
  /** Only the owner may connect (CONNECT revoked from PUBLIC). Absent in states made before it. */
  readonly isolated?: boolean;
  /** The port PostgreSQL listens on, where read() logs in as the owner. @default 5432 */
  readonly port?: number;
  /** false once a refresh found that the owner cannot log in with `password`. Absent in states made before it (read as true). */
  readonly passwordAccepted?: boolean;
  readonly schema?: number;
}

export interface ObservedDatabase {
  readonly roleExists: boolean;
  readonly databaseExists: boolean;
  /** Every role may connect to the database (PostgreSQL's default for a new one). */
  readonly publicConnect: boolean;
  /**
   * Logging in as the owner with the desired password over TCP on loopback: `ok`,
   * `rejected` (the server answered and refused: a password changed by hand, the role
   * made NOLOGIN or expired) or `unknown` (no server answered). Absent when not tried.
   */
  readonly login?: LoginResult;
}

export type LoginResult = "ok" | "rejected" | "unknown";

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export function probeScript(s: Pick<DatabaseState, "database" | "owner">): string {
  const sql = `SELECT (SELECT count(*) FROM pg_roles WHERE rolname = ${sqlLiteral(s.owner)}) || ' ' || `
    + `(SELECT count(*) FROM pg_database WHERE datname = ${sqlLiteral(s.database)}) || ' ' || `
    + `(SELECT count(*) FROM pg_database WHERE datname = ${sqlLiteral(s.database)} AND has_database_privilege('public', datname, 'CONNECT'));`;
  // No PostgreSQL (a rebuilt server) reads as "neither exists", which `up` then repairs.
  return script(
    `if ! id postgres >/dev/null 2>&1; then echo "0 0 0"; exit 0; fi`,
    "cd /",
    `runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 ${heredoc(sql)}`,
  );
}

/**
 * Logs in as the owner with the password, the way the app does (TCP, scram), and prints
 * `login ok|rejected|unknown`. The password travels in this script's body on stdin and
 * reaches psql in its environment (PGPASSWORD), never on a command line. Never fails.
 */
export function loginScript(s: Pick<DatabaseState, "database" | "owner" | "password" | "port">): string {
  return script(
    "cd /",
    `pw=$(cat ${heredoc(s.password)}\n)`,
    `if ! command -v psql >/dev/null 2>&1; then echo "login unknown"; exit 0; fi`,
    // LC_ALL=C: libpq's own messages in English; only the error text is kept.
    `if err=$(LC_ALL=C PGPASSWORD="$pw" PGCONNECT_TIMEOUT=5 psql -XAtqw -h 127.0.0.1 -p ${cmd(s.port ?? 5432)} -U ${cmd(s.owner)} -d ${cmd(s.database)} -c 'SELECT 1' 2>&1 >/dev/null); then`,
    `  echo "login ok"`,
    // A FATAL is the server's refusal; anything else (refused, timed out) means no server answered.
    `elif [[ "$err" == *FATAL* ]]; then echo "login rejected"`,
    `else echo "login unknown"; fi`,
  );
}

/** The probe and the owner's login in one round trip (a subshell each: the probe may exit early). */
export function observeScript(s: DatabaseState): string {
  return script(`(\n${probeScript(s)})`, `(\n${loginScript(s)})`);
}

/** Reads {@link observeScript}'s output: the probe's counts, then the login line. */
export function parseObserved(stdout: string): ObservedDatabase {
  const lines = stdout.trim().split("\n");
  const m = /^login (ok|rejected|unknown)$/.exec((lines.length === 2 ? lines[1] : "")!.trim());
  if (!m) throw new Error(`unexpected database probe output: ${JSON.stringify(stdout.trim())}`);
  return { ...parseProbe(lines[0]!), login: m[1] as LoginResult };
}

export function parseProbe(stdout: string): ObservedDatabase {
  const m = /^(\d+) (\d+) (\d+)$/.exec(stdout.trim());
  if (!m) throw new Error(`unexpected database probe output: ${JSON.stringify(stdout.trim())}`);
  return { roleExists: m[1] !== "0", databaseExists: m[2] !== "0", publicConnect: m[3] !== "0" };
}

/**
 * The plan. A role's password cannot be read back: it is set again when it changed in
 * the config or when logging in with it did not work (`observed.login`), with LOGIN and
 * no expiry, so a role altered by hand works again. The SQL goes to psql on stdin.
 */
export function plan(desired: DatabaseState, observed: ObservedDatabase, passwordChanged: boolean): string {
  const role = sqlIdent(desired.owner);
  const steps: string[] = [];
  if (!observed.roleExists) {
    steps.push(`CREATE ROLE ${role} LOGIN PASSWORD ${sqlLiteral(desired.password)};`);
  } else if (passwordChanged || (observed.login !== undefined && observed.login !== "ok")) {
    steps.push(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${sqlLiteral(desired.password)} VALID UNTIL 'infinity';`);
  }
  const lines: string[] = [];
  if (steps.length) lines.push(`runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 ${heredoc(steps.join("\n"))}`);
  if (!observed.databaseExists) {
    // CREATE DATABASE cannot run inside the heredoc's implicit transaction block.
    lines.push(`runuser -u postgres -- createdb -O ${cmd(desired.owner)} -E UTF8 -T template0 ${cmd(desired.database)}`);
  }
  // A new database lets every role connect; only its owner may (other apps' roles share the server).
  if (!observed.databaseExists || observed.publicConnect) {
    lines.push(`runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 ${heredoc(`REVOKE CONNECT ON DATABASE ${sqlIdent(desired.database)} FROM PUBLIC;`)}`);
  }
  return lines.length ? script(...lines) : "";
}

async function observe(s: DatabaseState): Promise<ObservedDatabase> {
  return parseObserved((await run(s.connection, observeScript(s), { step: `probe database ${s.database}`, redact: [s.password] })).stdout);
}

export async function check(_olds: unknown, news: DatabaseState) {
  const failures = [];
  if (!IDENT.test(news.database ?? "")) failures.push({ property: "database", reason: `must match ${IDENT}, got ${JSON.stringify(news.database)}` });
  if (!IDENT.test(news.owner ?? "")) failures.push({ property: "owner", reason: `must match ${IDENT}, got ${JSON.stringify(news.owner)}` });
  return { inputs: news, failures };
}

export async function create(inputs: DatabaseState) {
  const body = plan(inputs, await observe(inputs), true);
  if (body) await run(inputs.connection, body, { step: `create database ${inputs.database}`, redact: [inputs.password] });
  return { id: `${inputs.connection.host}:${inputs.database}`, outs: inputs };
}

export async function diff(_id: string, olds: DatabaseState, news: DatabaseState) {
  // A different name is a different database: create it beside the old one, which stays.
  const replaces = [];
  if (olds.database !== news.database && olds.database !== "") replaces.push("database");
  if (olds.connection?.host !== news.connection?.host) replaces.push("connection");
  return {
    changes: replaces.length > 0 || olds.owner !== news.owner || olds.password !== news.password
      || olds.database !== news.database || olds.schema !== news.schema || olds.isolated !== news.isolated
      || (olds.passwordAccepted ?? true) !== (news.passwordAccepted ?? true)
      || JSON.stringify(olds.connection) !== JSON.stringify(news.connection),
    replaces,
    deleteBeforeReplace: false,
  };
}

export async function update(_id: string, olds: DatabaseState, news: DatabaseState) {
  const body = plan(news, await observe(news), olds.password !== news.password || olds.owner !== news.owner);
  if (body) await run(news.connection, body, { step: `update database ${news.database}`, redact: [news.password] });
  return { outs: news };
}

/**
 * Shows a dropped role or database as an empty name, and a password the server refuses
 * as `passwordAccepted: false`; the next `up` repairs either in place (an update).
 */
export async function read(id: string, props: DatabaseState) {
  const o = await observe(props);
  return {
    id,
    props: {
      ...props, owner: o.roleExists ? props.owner : "", database: o.databaseExists ? props.database : "", isolated: !o.publicConnect,
      // A missing role is already a diff; "unknown" (no server answered) claims nothing.
      passwordAccepted: !o.roleExists || o.login !== "rejected",
    },
  };
}

export async function delete_(): Promise<void> {
  // Deliberately nothing: see the module comment.
}
export { delete_ as delete };
