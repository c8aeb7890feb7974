/**
 * Backups: the scripts the timed jobs run (components/timedJobUnits.ts renders their units),
 * and restic's environment file. PostgreSQL is backed up with pgBackRest (full backups plus archived
 * WAL), MariaDB with `mariadb-dump | restic backup --stdin`, both to one S3 target, with
 * the same daily/weekly/monthly retention (restic's rule; pgbackrest-gfs.py applies it
 * to pgBackRest).
 *
 * Secrets live only in files the tools read themselves (pgbackrest.conf, restic.env):
 * nothing rendered here takes a secret except {@link renderResticEnv}, so no unit or
 * script can put one in an argv or a log line.
 */
import { cmd, heredoc, quote } from "../../lib/shell.ts";
import { quoteEnvValue } from "../app/envFile.ts";
import { assertHost, assertInt, assertMatches, assertName, assertPath, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";
import { S3_BUCKET, S3_REGION } from "../pgbackrest/pgbackrest.ts";

/** How many backups are kept, with restic's `forget --keep-*` meaning; times are UTC. */
export interface BackupRetention {
  /** For the last N days that have a backup, the newest backup of each day. */
  readonly daily: number;
  /** For the last N ISO weeks that have a backup, the newest backup of each week. */
  readonly weekly: number;
  /** For the last N calendar months that have a backup, the newest backup of each month. */
  readonly monthly: number;
}

/** Options for {@link renderPgBackupScript}. */
export interface PgBackupScriptOptions {
  /** pgBackRest stanza, e.g. `django-fleet`. */
  readonly stanza: string;
  /** What is kept after each backup. */
  readonly retention: BackupRetention;
  /** Absolute path of the GFS planner on the host, e.g. `/usr/local/lib/django-fleet/pgbackrest-gfs.py`. */
  readonly planner: string;
}

/** Options for {@link renderResticEnv}. */
export interface ResticEnvOptions {
  /**
   * `RESTIC_REPOSITORY`: `s3:https://<host>[:<port>]/<bucket>/<prefix>`, e.g.
   * `s3:https://s3.example.net:7070/backups/django-fleet/prod/restic`. The host is an IPv4
   * address or DNS name; the prefix is one or more segments of `[A-Za-z0-9._-]`.
   */
  readonly repository: string;
  /**
   * CA bundle that signs the endpoint's certificate (`RESTIC_CACERT`).
   * @default the system's CAs (no line)
   */
  readonly caFile?: string;
  /** S3 region (`AWS_DEFAULT_REGION`). */
  readonly region: string;
  /** S3 access key id (secret). */
  readonly accessKeyId: string;
  /** S3 secret access key (secret). */
  readonly secretAccessKey: string;
  /** The repository's password (secret): restic encrypts with it; losing it loses every backup. */
  readonly password: string;
}

/** Options for {@link renderMariaDbBackupScript}. */
export interface MariaDbBackupScriptOptions {
  /** The env file {@link renderResticEnv} renders (0600 root), e.g. `/etc/django-fleet/restic.env`. */
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

/** The file name the MariaDB dump has inside each restic snapshot (`restic dump <id> /mariadb-all.sql`). */
export const MARIADB_DUMP_FILENAME = "mariadb-all.sql";

/** `s3:https://host[:port]/bucket/prefix`, split into its parts for checking. */
const RESTIC_S3 = /^s3:https:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?\/([^/]+)\/(.+)$/;
const KEY_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/** A bare SQL identifier (also safe as a psql `-d` argument: no `=`, so never a connection string). */
const PG_NAME = /^[A-Za-z_][A-Za-z0-9_$]*$/;
/** Checks retention counts: each 0..1000, and not all 0 (restic would then keep everything). */
export function checkRetention(what: string, r: BackupRetention): BackupRetention {
  const daily = assertInt(`${what} retention.daily`, r.daily, 0, 1000);
  const weekly = assertInt(`${what} retention.weekly`, r.weekly, 0, 1000);
  const monthly = assertInt(`${what} retention.monthly`, r.monthly, 0, 1000);
  if (daily + weekly + monthly === 0) {
    throw new Error(`${what} retention keeps nothing: set daily, weekly or monthly above 0`);
  }
  return { daily, weekly, monthly };
}

/** The first lines of every script: bash, the notice, and stop at the first failure. */
function scriptHead(purpose: readonly string[]): string[] {
  return ["#!/bin/bash", managedHeader("#"), ...purpose.map((l) => `# ${l}`), "set -euo pipefail", "cd /"];
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

/**
 * Renders restic's environment file (0600 root), read both by `set -a; . file` in the
 * backup script and by a systemd `EnvironmentFile=`: every value is double-quoted with
 * `"`, `\`, `` ` `` and `$` escaped, which both read the same way. Values with control
 * characters (line breaks) are refused.
 */
export function renderResticEnv(o: ResticEnvOptions): string {
  const m = RESTIC_S3.exec(o.repository);
  if (m === null) {
    throw new Error(`restic repository ${JSON.stringify(o.repository)} is invalid: expected s3:https://<host>[:<port>]/<bucket>/<prefix>`);
  }
  assertHost("restic repository host", m[1] ?? "");
  if (m[2] !== undefined) assertPort("restic repository port", Number(m[2]));
  assertMatches("restic repository bucket", m[3] ?? "", S3_BUCKET, "an S3 bucket name (3-63 lower-case letters, digits, dots and dashes)");
  assertMatches("restic repository prefix", m[4] ?? "", KEY_PREFIX, "slash-separated segments of letters, digits, '.', '_' and '-', without a trailing slash");
  const region = assertMatches("restic region", o.region, S3_REGION, "a region name like eu-central-1");
  const caFile = o.caFile === undefined ? undefined : assertPath("restic caFile", o.caFile);
  const line = (key: string, value: string) => `${key}=${quoteEnvValue(value)}`;
  return renderLines([
    managedHeader("#"),
    line("RESTIC_REPOSITORY", o.repository),
    line("RESTIC_PASSWORD", checkSecret("restic password", o.password)),
    line("AWS_ACCESS_KEY_ID", checkSecret("restic accessKeyId", o.accessKeyId)),
    line("AWS_SECRET_ACCESS_KEY", checkSecret("restic secretAccessKey", o.secretAccessKey)),
    line("AWS_DEFAULT_REGION", region),
    // restic reads RESTIC_CACERT itself from 0.16 on; the backup script also passes it as
    // --cacert for older ones (Debian 12 has 0.14).
    caFile !== undefined && line("RESTIC_CACERT", caFile),
  ]);
}

/** A secret for an env file: non-empty, no control characters. Never echoed in the error. */
function checkSecret(what: string, value: string): string {
  if (value === "" || /[\x00-\x1f\x7f\uFEFF]|\p{Surrogate}/u.test(value)) {
    throw new Error(`${what} is invalid: expected a non-empty value without control characters (line breaks)`);
  }
  return value;
}

/**
 * The lines that make restic usable in a script: the repository, its password and the S3
 * keys from the env file (never from argv), and `r`, restic with the bucket lookup and
 * the CA as a flag (restic reads RESTIC_CACERT itself only from 0.16; Debian 12 has 0.14).
 */
export function resticPrelude(envFile: string, pathStyle: boolean): string[] {
  return [
    "set -a",
    `. ${quote(assertPath("restic envFile", envFile))}`,
    "set +a",
    pathStyle ? "restic_opts=(-o s3.bucket-lookup=path)" : "restic_opts=()",
    `if [ -n "\${RESTIC_CACERT:-}" ]; then restic_opts+=(--cacert "$RESTIC_CACERT"); fi`,
    `r() { restic "\${restic_opts[@]}" "$@"; }`,
  ];
}

/** Sets `n` to the number of snapshots of this host and tag; a repository that cannot be read fails the script. */
export function resticSnapshotCount(host: string, tag: string): string {
  return `n=$(r ${cmd("snapshots", "--json", "--host", host, "--tag", tag)} | python3 -c 'import json,sys; print(len(json.load(sys.stdin) or []))')`;
}

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

/** Options for {@link renderMediaBackupScript}. */
export interface MediaBackupScriptOptions {
  /** The env file {@link renderResticEnv} renders (0600 root). */
  readonly envFile: string;
  /** Host name recorded in every snapshot (`--host`), fixed so a rebuilt server keeps its history. */
  readonly host: string;
  /** What is kept after each backup. */
  readonly retention: BackupRetention;
  /** Path-style bucket lookup (`-o s3.bucket-lookup=path`). */
  readonly pathStyle: boolean;
  /** The uploads folder (Django's MEDIA_ROOT), absolute. */
  readonly mediaRoot: string;
}

/**
 * Renders the uploads backup of a single-host stack that keeps media on disk, run as
 * root: restic backs the folder up (incremental, deduplicated), then applies retention.
 * A folder that does not exist yet (no upload so far) is not an error.
 */
export function renderMediaBackupScript(o: MediaBackupScriptOptions): string {
  const envFile = assertPath("media backup envFile", o.envFile);
  const mediaRoot = assertPath("media backup mediaRoot", o.mediaRoot);
  const host = assertMatches("media backup host", o.host, /^[A-Za-z0-9][A-Za-z0-9._-]*$/, "letters, digits, '.', '_' and '-'");
  const r = checkRetention("media backup", o.retention);
  const select = ["--tag", "django-fleet-media", "--host", host];
  return renderLines([
    ...scriptHead([
      `Backs up the uploads in ${mediaRoot} with restic to the S3 target, then applies retention.`,
      "Runs as root: the env file is 0600 root.",
    ]),
    ...resticPrelude(envFile, o.pathStyle),
    "started=$(date +%s)",
    `if ! r cat config >/dev/null 2>&1; then echo ${quote("no readable repository yet: restic init")}; r init; fi`,
    `if [ ! -d ${quote(mediaRoot)} ]; then echo ${quote(`${mediaRoot} does not exist yet (no upload so far): nothing to back up`)}; exit 0; fi`,
    `echo ${quote(`==> uploads in ${mediaRoot} into restic (snapshot host ${host})`)}`,
    `r ${cmd("backup", ...select, "--", mediaRoot)}`,
    `echo "==> done in $(( $(date +%s) - started )) s"`,
    `echo ${quote(`==> retention: the newest snapshot of each of the last ${r.daily} days, ${r.weekly} ISO weeks and ${r.monthly} months`)}`,
    `r ${cmd("forget", ...select, "--keep-daily", r.daily, "--keep-weekly", r.weekly, "--keep-monthly", r.monthly, "--prune")}`,
  ]);
}

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

/**
 * Restores the latest snapshot of `dir` (MEDIA_ROOT, which the app's own settings name)
 * without root writing to or chowning anything the app controls: restic restores into a
 * fresh folder of root's, its files are handed to `owner` there, and `owner` copies them
 * into `dir` as itself. Needs `r` (restic with the repository's environment). Pure.
 */
export function mediaRestoreCommands(dir: string, owner: string, snapshotHost: string): string[] {
  return [
    `tmp=$(mktemp -d /var/tmp/django-fleet-restore.XXXXXX)`,
    `trap 'rm -rf -- "$tmp"' EXIT`,
    `r restore latest --host ${cmd(snapshotHost)} --tag django-fleet-media --target "$tmp"`,
    // Only root can enter $tmp (0700) while its files change hands.
    `chown -R -P ${cmd(`${owner}:${owner}`)} -- "$tmp"/*`,
    `chmod 0711 -- "$tmp"`,
    `runuser -u ${cmd(owner)} -- cp -a -- "$tmp"${cmd(dir)}/. ${cmd(dir)}/`,
  ];
}
