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
import { run, type Connection } from "./ssh.ts";

export interface DatabaseState {
  readonly connection: Connection;
  readonly database: string;
  readonly owner: string;
  readonly password: string;
  /** Only the owner may connect (CONNECT revoked from PUBLIC). Absent in states made before it. */
  readonly isolated?: boolean;
  readonly schema?: number;
}

export interface ObservedDatabase {
  readonly roleExists: boolean;
  readonly databaseExists: boolean;
  /** Every role may connect to the database (PostgreSQL's default for a new one). */
  readonly publicConnect: boolean;
}

const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

/** SQL literal quoting (standard_conforming_strings is on since PostgreSQL 9.1). */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

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

export function parseProbe(stdout: string): ObservedDatabase {
  const m = /^(\d+) (\d+) (\d+)$/.exec(stdout.trim());
  if (!m) throw new Error(`unexpected database probe output: ${JSON.stringify(stdout.trim())}`);
  return { roleExists: m[1] !== "0", databaseExists: m[2] !== "0", publicConnect: m[3] !== "0" };
}

/**
 * The plan. The password is (re)set on every converge that runs: a role's password
 * cannot be read back, and setting it is harmless. The SQL goes to psql on stdin.
 */
export function plan(desired: DatabaseState, observed: ObservedDatabase, passwordChanged: boolean): string {
  const role = `"${desired.owner}"`;
  const steps: string[] = [];
  if (!observed.roleExists) {
    steps.push(`CREATE ROLE ${role} LOGIN PASSWORD ${sqlLiteral(desired.password)};`);
  } else if (passwordChanged) {
    steps.push(`ALTER ROLE ${role} WITH LOGIN PASSWORD ${sqlLiteral(desired.password)};`);
  }
  const lines: string[] = [];
  if (steps.length) lines.push(`runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 ${heredoc(steps.join("\n"))}`);
  if (!observed.databaseExists) {
    // CREATE DATABASE cannot run inside the heredoc's implicit transaction block.
    lines.push(`runuser -u postgres -- createdb -O ${cmd(desired.owner)} -E UTF8 -T template0 ${cmd(desired.database)}`);
  }
  // A new database lets every role connect; only its owner may (other apps' roles share the server).
  if (!observed.databaseExists || observed.publicConnect) {
    lines.push(`runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 ${heredoc(`REVOKE CONNECT ON DATABASE "${desired.database}" FROM PUBLIC;`)}`);
  }
  return lines.length ? script(...lines) : "";
}

async function observe(s: DatabaseState): Promise<ObservedDatabase> {
  return parseProbe((await run(s.connection, probeScript(s), { step: `probe database ${s.database}` })).stdout);
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

/** Shows a dropped role or database as an empty name, which the next `up` repairs. */
export async function read(id: string, props: DatabaseState) {
  const o = await observe(props);
  return { id, props: { ...props, owner: o.roleExists ? props.owner : "", database: o.databaseExists ? props.database : "", isolated: !o.publicConnect } };
}

export async function delete_(): Promise<void> {
  // Deliberately nothing: see the module comment.
}
export { delete_ as delete };
