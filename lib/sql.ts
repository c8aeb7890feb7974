/**
 * The one quoting helper for SQL, as lib/shell.ts is for shell. Every name or value
 * that reaches a statement goes through one of these, so no config value can change a
 * statement's meaning. The config only allows names that need no escaping (lower-case
 * letters, digits, `_`; addresses), so for those the quoted form is the plain one in
 * quotes; the escaping is there for what the config may allow later.
 */

/**
 * A PostgreSQL string literal: `'...'` with `'` doubled. Backslashes stay as they are:
 * standard_conforming_strings is on since PostgreSQL 9.1.
 */
export function sqlLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A PostgreSQL identifier (role, database): `"..."` with `"` doubled. */
export function sqlIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/**
 * A MariaDB string literal: `'...'` with `'` doubled and `\` doubled, since MariaDB reads
 * backslash escapes in strings unless sql_mode has NO_BACKSLASH_ESCAPES (Debian's has not).
 */
export function mariaLiteral(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/** A MariaDB identifier (database): `` `...` `` with `` ` `` doubled. */
export function mariaIdent(s: string): string {
  return `\`${s.replace(/`/g, "``")}\``;
}

/** A MariaDB account, `'user'@'host'`: both halves are string literals. */
export function mariaAccount(user: string, host: string): string {
  return `${mariaLiteral(user)}@${mariaLiteral(host)}`;
}
