/**
 * The restore drill PgBackup's second timed job runs: the latest backup restored into a
 * throwaway instance, its rows counted, the result written as JSON (what `lastRestoreDrill`
 * and the stale-drill alert read).
 */
import { cmd, heredoc, quote } from "../../lib/shell.ts";
import { assertMatches, assertName, assertPath, assertPort, renderLines, withDefault } from "../../lib/render.ts";
import { scriptHead } from "../restic/jobScript.ts";

/** Options for {@link renderPgRestoreDrillScript}. */
export interface PgRestoreDrillScriptOptions {
  /** pgBackRest stanza, e.g. `django-fleet`. */
  readonly stanza: string;
  /** PostgreSQL major version on the host (15 on Debian 12, 17 on Debian 13): `/usr/lib/postgresql/<N>/bin`. */
  readonly pgVersion: number | string;
  /** The app's database: the drill checks it and counts the rows of each of its tables. */
  readonly database: string;
  /**
   * Port of the scratch instance (it listens on a Unix socket in the scratch directory only).
   * @default 5499
   */
  readonly port?: number;
  /**
   * Where the backup is restored; wiped before and after each drill. Never the cluster's own
   * directory or one of its parents.
   * @default "/var/lib/postgresql/django-fleet-drill"
   */
  readonly scratchDir?: string;
  /**
   * The drill's result, JSON, replaced atomically (0644).
   * @default "/var/lib/django-fleet/restore-drill.json"
   */
  readonly resultFile?: string;
}

/** A bare SQL identifier (also safe as a psql `-d` argument: no `=`, so never a connection string). */
const PG_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;

/**
 * The drill's result writer (python3, stdlib only): `ok LABEL STOP_EPOCH TABLES_JSON` or
 * `fail ERROR_TEXT`, after the result file and the drill's start time. Written to a
 * temporary file in the same directory and renamed, so a reader never sees half a file.
 */
const RESULT_PY = `import datetime, json, os, sys, tempfile, time
path, started, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
iso = lambda t: datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
now = int(time.time())
if mode == "ok":
    stopped = int(sys.argv[5])
    doc = {"ok": True, "finishedAt": iso(now), "durationSeconds": now - started, "backupLabel": sys.argv[4],
           "backupStoppedAt": iso(stopped), "backupAgeSeconds": started - stopped, "tables": json.loads(sys.argv[6])}
else:
    doc = {"ok": False, "finishedAt": iso(now), "durationSeconds": now - started, "error": sys.argv[4]}
fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".restore-drill.")
with os.fdopen(fd, "w") as f:
    json.dump(doc, f, sort_keys=True)
    f.write("\\n")
    f.flush()
    os.fsync(f.fileno())
os.chmod(tmp, 0o644)
os.replace(tmp, path)
`;

/** Prints `LABEL STOP_EPOCH` of the newest backup of the stanza in argv[1], from `info --output=json` on stdin. */
const LATEST_PY = `import json, sys
stanzas = [s for s in json.load(sys.stdin) if s.get("name") == sys.argv[1]]
backups = stanzas[0].get("backup", []) if stanzas else []
if not backups:
    sys.exit("no backup of stanza %s in the repository" % sys.argv[1])
b = max(backups, key=lambda b: (b["timestamp"]["stop"], b["label"]))
print(b["label"], b["timestamp"]["stop"])
`;

/**
 * Exact row counts of every ordinary table outside the system schemas, as one JSON object
 * `{"schema.table": n}`: query_to_xml runs one `count(*)` per table inside a single query.
 */
const COUNT_SQL =
  "SELECT coalesce(json_object_agg(t.name, t.n ORDER BY t.name), '{}') FROM (" +
  "SELECT format('%s.%s', n.nspname, c.relname) AS name, " +
  "(xpath('/row/n/text()', query_to_xml(format('SELECT count(*) AS n FROM %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint AS n " +
  "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace " +
  "WHERE c.relkind = 'r' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%') t";

/**
 * Renders the restore drill, run as root: restores the latest backup into a scratch
 * directory, starts a throwaway instance on it (Unix socket only, archiving off), waits
 * for it to be promoted, checks the app's database and counts its rows, and records the
 * result as JSON. The scratch instance is stopped and removed whatever happens.
 */
export function renderPgRestoreDrillScript(o: PgRestoreDrillScriptOptions): string {
  const stanza = assertName("restore drill stanza", o.stanza);
  const version = assertMatches("restore drill pgVersion", String(o.pgVersion), /^[1-9][0-9]$/, "a PostgreSQL major version from 10 to 99");
  const database = assertMatches("restore drill database", o.database, PG_NAME, "a plain identifier ([A-Za-z_][A-Za-z0-9_$]*)");
  const port = assertPort("restore drill port", withDefault(o.port, 5499));
  const scratch = checkScratch(withDefault(o.scratchDir, "/var/lib/postgresql/django-fleet-drill"), version);
  const result = assertPath("restore drill resultFile", withDefault(o.resultFile, "/var/lib/django-fleet/restore-drill.json"));
  const resultDir = result.slice(0, result.lastIndexOf("/"));
  if (result.endsWith("/") || resultDir === "") {
    throw new Error(`restore drill resultFile ${JSON.stringify(result)} is invalid: expected a file in a directory, e.g. /var/lib/django-fleet/restore-drill.json`);
  }
  const bin = `/usr/lib/postgresql/${version}/bin`;
  const serverLog = `${scratch}/drill-server.log`;
  const postgresqlConf = renderLines([
    "# django-fleet restore drill: a throwaway copy of the latest backup, removed after the drill.",
    `port = ${port}`,
    // Reachable only through its own socket: no TCP, no clash with the real cluster's socket.
    "listen_addresses = ''",
    `unix_socket_directories = '${scratch}'`,
    // Critical: a promoted copy must never push WAL (a new timeline) into the real repository.
    "archive_mode = off",
    // Without hot standby, recovery does not require max_connections and friends to be at
    // least the primary's; connections simply wait for the promotion the drill waits for.
    "hot_standby = off",
    `hba_file = '${scratch}/pg_hba.conf'`,
    `ident_file = '${scratch}/pg_ident.conf'`,
  ]);
  const psql = (db: string, sql: string) => `as_pg ${cmd("psql", "-h", scratch, "-p", port, "-d", db, "-XAt", "-v", "ON_ERROR_STOP=1", "-c", sql)}`;
  return renderLines([
    ...scriptHead([
      `Restore drill: restores the latest backup of stanza ${stanza} into ${scratch},`,
      `starts a throwaway PostgreSQL ${version} on it (socket only, port ${port}, archiving off),`,
      `counts the rows of every table of ${database}, and writes the result to ${result}.`,
      "Runs as root.",
    ]),
    `scratch=${quote(scratch)}`,
    `result=${quote(result)}`,
    "started=$(date +%s)",
    "log=$(mktemp)",
    `as_pg() { runuser -u postgres -- "$@"; }`,
    `write_result() { python3 -c ${quote(RESULT_PY)} "$result" "$started" "$@"; }`,
    // Stops a scratch instance left running (by this drill, or by an earlier one that was
    // killed) and removes the copy.
    "cleanup() {",
    `  if [ -f "$scratch/postmaster.pid" ]; then`,
    `    as_pg ${cmd(`${bin}/pg_ctl`, "-D", scratch, "-m", "immediate", "-w", "-t", 60, "stop")} >/dev/null 2>&1 || true`,
    "  fi",
    `  rm -rf -- "$scratch"`,
    "}",
    `trap 'cleanup; rm -f -- "$log"' EXIT`,
    // A stopped unit (SIGTERM) still runs the EXIT trap, so nothing is left behind.
    "trap 'exit 143' TERM INT HUP",
    "",
    "drill() {",
    "  set -euo pipefail",
    `  echo ${quote(`==> scratch directory ${scratch}`)}`,
    "  cleanup",
    `  ${cmd("install", "-d", "-o", "postgres", "-g", "postgres", "-m", "0700", scratch)}`,
    `  echo ${quote("==> the latest backup in the repository")}`,
    // Read first and restored by label, so the label reported is the one restored even if
    // a backup finishes meanwhile.
    `  meta=$(as_pg ${cmd("pgbackrest", `--stanza=${stanza}`, "--output=json", "info")} | python3 -c ${quote(LATEST_PY)} ${quote(stanza)})`,
    `  label=\${meta% *}`,
    `  stopped=\${meta#* }`,
    `  echo "==> restoring backup $label (to its end point, then promoted)"`,
    // --archive-mode=off also writes archive_mode=off into postgresql.auto.conf.
    `  as_pg ${cmd("pgbackrest", `--stanza=${stanza}`, `--pg1-path=${scratch}`)} --set="$label" ${cmd("--type=immediate", "--target-action=promote", "--archive-mode=off", "restore")}`,
    `  cat >${quote(`${scratch}/postgresql.conf`)} ${heredoc(postgresqlConf)}`,
    `  cat >${quote(`${scratch}/pg_hba.conf`)} ${heredoc("local all all peer\n")}`,
    `  cat >${quote(`${scratch}/pg_ident.conf`)} ${heredoc("# no user name maps\n")}`,
    `  ${cmd("chown", "postgres:postgres", `${scratch}/postgresql.conf`, `${scratch}/pg_hba.conf`, `${scratch}/pg_ident.conf`)}`,
    `  echo ${quote(`==> starting the scratch instance (port ${port}, socket only)`)}`,
    // -l: the server's output goes to a file, never to this script's pipe. The command-line
    // archive_mode=off wins over anything in the restored postgresql.auto.conf.
    `  as_pg ${cmd(`${bin}/pg_ctl`, "-D", scratch, "-l", serverLog, "-w", "-t", 600, "start", "-o", `-c config_file=${scratch}/postgresql.conf -c archive_mode=off`)}`,
    `  echo ${quote("==> waiting for recovery to finish")}`,
    "  promoted=",
    "  for _ in $(seq 1 600); do",
    `    if [ "$(${psql("postgres", "SELECT pg_is_in_recovery()")} 2>/dev/null)" = f ]; then promoted=1; break; fi`,
    "    sleep 1",
    "  done",
    `  if [ -z "$promoted" ]; then echo ${quote("the restored copy was not promoted within 600 s")} >&2; exit 1; fi`,
    `  echo ${quote(`==> check query on ${database}`)}`,
    `  if [ "$(${psql(database, "SELECT current_database()")})" != ${quote(database)} ]; then echo ${quote(`database ${database} does not answer in the restored copy`)} >&2; exit 1; fi`,
    `  echo ${quote(`==> counting the rows of every table of ${database}`)}`,
    `  tables=$(${psql(database, COUNT_SQL)})`,
    `  printf '%s\\n' "$tables"`,
    `  echo ${quote("==> stopping the scratch instance")}`,
    `  as_pg ${cmd(`${bin}/pg_ctl`, "-D", scratch, "-m", "fast", "-w", "-t", 120, "stop")}`,
    `  write_result ok "$label" "$stopped" "$tables"`,
    "}",
    "",
    `${cmd("install", "-d", "-m", "0755", resultDir)}`,
    // The drill runs in a pipeline so its output reaches the journal and the log whose last
    // lines explain a failure; its own `set -e` stops it at the first failing step.
    "set +e",
    `drill 2>&1 | tee -a "$log"`,
    `rc=\${PIPESTATUS[0]}`,
    "set -e",
    `if [ "$rc" != 0 ]; then`,
    `  error=$(tail -n 15 "$log"; if [ -f ${quote(serverLog)} ]; then echo ${quote("--- scratch server log:")}; tail -n 10 ${quote(serverLog)}; fi)`,
    `  write_result fail "$error"`,
    `  echo ${quote(`==> restore drill FAILED; result in ${result}`)} >&2`,
    "  exit 1",
    "fi",
    `echo ${quote(`==> restore drill OK; result in ${result}`)}`,
  ]);
}

/**
 * The scratch directory is wiped with `rm -rf`: it must be a dedicated directory at least
 * three levels deep, and neither the cluster's version directory (/var/lib/postgresql/N),
 * anything inside it, nor one of its parents.
 */
function checkScratch(scratch: string, version: string): string {
  const path = assertPath("restore drill scratchDir", scratch).replace(/\/+$/, "");
  const segments = path.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.length < 3 || path.split("/").includes(".")) {
    throw new Error(`restore drill scratchDir ${JSON.stringify(scratch)} is invalid: expected a dedicated directory at least three levels deep, e.g. /var/lib/postgresql/django-fleet-drill`);
  }
  const cluster = `/var/lib/postgresql/${version}`;
  if (path === cluster || path.startsWith(`${cluster}/`) || cluster.startsWith(`${path}/`)) {
    throw new Error(`restore drill scratchDir ${JSON.stringify(scratch)} is invalid: it overlaps the cluster's own ${cluster}`);
  }
  return path;
}
