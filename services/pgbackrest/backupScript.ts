/**
 * The PostgreSQL backup script PgBackup's timed job runs: a full pgBackRest backup (the
 * archived WAL fills the gaps), then the daily/weekly/monthly retention. The repository's
 * keys and cipher pass stay in pgbackrest.conf, which pgBackRest reads itself.
 */
import { cmd, quote } from "../../lib/shell.ts";
import { assertName, assertPath, renderLines } from "../../lib/render.ts";
import { checkRetention, scriptHead, type BackupRetention } from "../restic/jobScript.ts";

/** Options for {@link renderPgBackupScript}. */
export interface PgBackupScriptOptions {
  /** pgBackRest stanza, e.g. `django-fleet`. */
  readonly stanza: string;
  /** What is kept after each backup. */
  readonly retention: BackupRetention;
  /** Absolute path of the GFS planner on the host, e.g. `/usr/local/lib/django-fleet/pgbackrest-gfs.py`. */
  readonly planner: string;
}

/**
 * Renders the PostgreSQL backup script, run as postgres: a full backup, then the GFS
 * planner expires the full backups the retention does not keep (with their WAL and
 * dependent backups).
 */
export function renderPgBackupScript(o: PgBackupScriptOptions): string {
  const stanza = assertName("pg backup stanza", o.stanza);
  const r = checkRetention("pg backup", o.retention);
  const planner = assertPath("pg backup planner", o.planner);
  const pgbackrest = (...words: string[]) => cmd("pgbackrest", `--stanza=${stanza}`, ...words);
  return renderLines([
    ...scriptHead([
      `Full backup of the PostgreSQL cluster (stanza ${stanza}) with pgBackRest, then retention.`,
      "Runs as postgres, which reads /etc/pgbackrest/pgbackrest.conf (repository keys, cipher pass).",
    ]),
    // As root, pgBackRest would leave root-owned lock files that stop postgres's own runs.
    `if [ "$(id -un)" != postgres ]; then echo ${quote("run this as postgres: runuser -u postgres -- ")}"$0" >&2; exit 1; fi`,
    "started=$(date +%s)",
    `echo ${quote(`==> full backup of stanza ${stanza}`)}`,
    pgbackrest("--type=full", "backup"),
    `echo "==> full backup done in $(( $(date +%s) - started )) s"`,
    `echo ${quote(`==> retention: the newest full backup of each of the last ${r.daily} days, ${r.weekly} ISO weeks and ${r.monthly} months (UTC)`)}`,
    cmd("python3", planner, "--stanza", stanza, "--daily", r.daily, "--weekly", r.weekly, "--monthly", r.monthly),
    `echo ${quote("==> backups in the repository")}`,
    pgbackrest("info"),
  ]);
}
