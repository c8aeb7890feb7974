/**
 * The MariaDB backup script (`mariadb-dump | restic backup --stdin`), which MariaDbBackup's
 * timed job runs.
 */
import { cmd, quote } from "../../lib/shell.ts";
import { assertMatches, assertPath, renderLines } from "../../lib/render.ts";
import { resticPrelude } from "./env.ts";
import { checkRetention, scriptHead, type BackupRetention } from "./jobScript.ts";

/** Options for {@link renderMariaDbBackupScript}. */
export interface MariaDbBackupScriptOptions {
  /** The env file {@link renderResticEnv} (env.ts) renders (0600 root), e.g. `/etc/django-fleet/restic.env`. */
  readonly envFile: string;
  /**
   * Host name recorded in every snapshot (`--host`) and used to select them for retention.
   * Fixed rather than the machine's name, so a rebuilt or renamed server keeps its history.
   */
  readonly host: string;
  /** What is kept after each backup. */
  readonly retention: BackupRetention;
  /**
   * Dump only this database (`--databases <name>`: the dump creates and selects it, so
   * `restic dump … | mariadb` loads it into a bare server).
   * @default every database (`--all-databases`)
   */
  readonly database?: string;
  /** Path-style bucket lookup (`-o s3.bucket-lookup=path`), which MinIO, Garage and versitygw need. */
  readonly pathStyle: boolean;
}

/** The file name the MariaDB dump has inside each restic snapshot (`restic dump <id> /mariadb-all.sql`). */
export const MARIADB_DUMP_FILENAME = "mariadb-all.sql";

/**
 * Renders the MariaDB backup script, run as root: every database dumped in one consistent
 * transaction straight into restic (no copy on local disk), then restic's own retention
 * and prune. A dump that fails half-way leaves no snapshot behind.
 */
export function renderMariaDbBackupScript(o: MariaDbBackupScriptOptions): string {
  const envFile = assertPath("mariadb backup envFile", o.envFile);
  const host = assertMatches("mariadb backup host", o.host, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' and '-'");
  const r = checkRetention("mariadb backup", o.retention);
  const which = o.database === undefined
    ? ["--all-databases"]
    : ["--databases", assertMatches("mariadb backup database", o.database, /^[A-Za-z0-9_]+$/, "letters, digits and '_'")];
  const select = ["--tag", "django-fleet", "--host", host];
  return renderLines([
    ...scriptHead([
      `Dumps ${o.database === undefined ? "every MariaDB database" : `the MariaDB database ${o.database}`} into restic on the S3 target, then applies retention.`,
      "Runs as root: MariaDB's root logs in over the Unix socket, and the env file is 0600 root.",
    ]),
    ...resticPrelude(envFile, o.pathStyle),
    "started=$(date +%s)",
    `echo ${quote("==> restic repository")}`,
    "if r cat config >/dev/null 2>&1; then",
    `  echo ${quote("the repository exists")}`,
    "else",
    // init refuses to overwrite an existing repository, so a network or password problem
    // here ends in a clear error from init, never in a second repository.
    `  echo ${quote("no readable repository yet: restic init")}`,
    "  r init",
    "fi",
    `echo ${quote(`==> dump of ${o.database === undefined ? "all MariaDB databases" : `MariaDB database ${o.database}`} into restic (snapshot host ${host})`)}`,
    "summary=$(mktemp)",
    `trap 'rm -f -- "$summary"' EXIT`,
    // restic saves whatever reached its stdin even when the dump fails, so the exit
    // statuses of both ends are checked and a snapshot of a failed dump is forgotten.
    "set +e",
    `${cmd("mariadb-dump", "--single-transaction", "--routines", "--events", ...which)} | r ${cmd("backup", "--stdin", "--stdin-filename", MARIADB_DUMP_FILENAME, ...select, "--json")} >"$summary"`,
    `status=("\${PIPESTATUS[@]}")`,
    "set -e",
    `snapshot=$(sed -n 's/.*"message_type":"summary".*"snapshot_id":"\\([0-9a-f]*\\)".*/\\1/p' "$summary" | tail -n 1)`,
    `if [ "\${status[1]}" != 0 ] || [ -z "$snapshot" ]; then`,
    `  echo "restic backup failed (exit \${status[1]})" >&2`,
    "  exit 1",
    "fi",
    `if [ "\${status[0]}" != 0 ]; then`,
    `  echo "mariadb-dump failed (exit \${status[0]}): forgetting snapshot $snapshot of its partial output" >&2`,
    `  r forget "$snapshot"`,
    "  exit 1",
    "fi",
    `echo "==> snapshot $snapshot saved in $(( $(date +%s) - started )) s"`,
    `echo ${quote(`==> retention: the newest snapshot of each of the last ${r.daily} days, ${r.weekly} ISO weeks and ${r.monthly} months`)}`,
    `r ${cmd("forget", ...select, "--keep-daily", r.daily, "--keep-weekly", r.weekly, "--keep-monthly", r.monthly, "--prune")}`,
  ]);
}
