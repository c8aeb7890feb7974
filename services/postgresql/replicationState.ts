/**
 * The replication role and slots as states a refresh reads (RemoteScript `read`/`state`):
 * pure builders. Each read prints one canonical line; a role or slot changed or dropped
 * by hand previews as that line.
 */
import { cmd, script } from "../../lib/shell.ts";
import { sqlLiteral } from "../../lib/sql.ts";

/** psql as postgres, one value per row, from `/` (postgres cannot enter root's folder). */
function query(sql: string): string {
  return `cd / && runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c ${cmd(sql)}`;
}

/** The role as wanted: it exists, and may log in and replicate. */
export function replicationRoleState(role: string): string {
  return `role ${role} login replication`;
}

/** Prints `role <name> [no]login [no]replication`, or `role <name> absent` (never its password). */
export function replicationRoleRead(role: string): string {
  return script(
    `line=$(${query(`SELECT 'role ' || rolname || CASE WHEN rolcanlogin THEN ' login' ELSE ' nologin' END || CASE WHEN rolreplication THEN ' replication' ELSE ' noreplication' END FROM pg_roles WHERE rolname = ${sqlLiteral(role)}`)})`,
    `printf '%s\\n' "\${line:-${`role ${role} absent`}}"`,
  );
}

/** The slot as wanted: it exists, physical. */
export function replicationSlotState(slot: string): string {
  return `slot ${slot} physical`;
}

/** Prints `slot <name> <physical|logical>`, or `slot <name> absent`. */
export function replicationSlotRead(slot: string): string {
  return script(
    `line=$(${query(`SELECT 'slot ' || slot_name || ' ' || slot_type FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)}`)})`,
    `printf '%s\\n' "\${line:-${`slot ${slot} absent`}}"`,
  );
}
