/**
 * PgBackup: pgBackRest on the PostgreSQL primary. WAL is archived continuously and a full
 * backup runs on a systemd timer, both to the S3 target, encrypted with a generated key;
 * retention (newest of each of the last N days, weeks, months) is enforced after every
 * backup. A cluster that comes back bare (no app database, a backup in the repository)
 * is restored from the repository before anything else touches it, and a restore drill
 * proves on a timer that the latest backup restores.
 *
 * Order on the host: repository config, restore-if-bare, stanza (proves the target is
 * usable before PostgreSQL is told to archive to it), then the DbServer's own config with
 * archiving on, then the first backup.
 */
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { HOST_CA_FILE, type ObjectStore } from "../../config/objectStore.ts";
import { shortHash } from "../../lib/hash.ts";
import { cmd, script } from "../../lib/shell.ts";
import { renderPgBackRestConf } from "./pgbackrest.ts";
import { renderPgBackupScript } from "./backupScript.ts";
import { renderPgRestoreDrillScript } from "./restoreDrillScript.ts";
import { timedJob } from "../../components/timedJob.ts";
import type { RemoteScript } from "../../providers/remoteScript.ts";
import type { Host } from "../../components/host.ts";

/** The stanza: pgBackRest's name for the cluster in the repository. */
export const STANZA = "django-fleet";
/** The archive_command PostgreSQL runs for each WAL segment. */
export const ARCHIVE_COMMAND = `pgbackrest --stanza=${STANZA} archive-push %p`;
const LIVE_CONF = "/etc/pgbackrest/pgbackrest.conf";
const CANDIDATE_CONF = "/etc/pgbackrest/pgbackrest.conf.next";
const PLANNER = "/usr/local/lib/django-fleet/pgbackrest-gfs.py";
const BACKUP_SCRIPT = "/usr/local/sbin/django-fleet-backup";
const DRILL_SCRIPT = "/usr/local/sbin/django-fleet-restore-drill";
const DRILL_RESULT = "/var/lib/django-fleet/restore-drill.json";
/** The units an operator starts by hand: `systemctl start django-fleet-backup.service`. */
export const BACKUP_UNIT = "django-fleet-backup";
export const DRILL_UNIT = "django-fleet-restore-drill";

/**
 * SQL that drops what a pgBackRest restore wrote into postgresql.auto.conf, once the
 * cluster is promoted: a replica copied from it (pg_basebackup copies that file) would
 * otherwise call pgbackrest, which replicas do not have, and stop at the old target.
 */
export const FORGET_RESTORE_SETTINGS = ["restore_command", "recovery_target", "recovery_target_time", "recovery_target_action",
  "recovery_target_xid", "recovery_target_lsn", "recovery_target_name", "recovery_target_inclusive", "recovery_target_timeline"]
  // One -c each: ALTER SYSTEM cannot run inside the transaction a multi-statement -c is.
  .map((g) => `-c ${cmd(`ALTER SYSTEM RESET ${g}`)}`).join(" ");

/** Retention counts. */
export interface Retention {
  /** Newest backup of each of the last N days. */
  readonly daily: number;
  /** Newest backup of each of the last N ISO weeks. */
  readonly weekly: number;
  /** Newest backup of each of the last N months. */
  readonly monthly: number;
}

export interface PgBackupArgs {
  /** The primary's host. */
  readonly host: Host;
  /** Where backups go. */
  readonly store: ObjectStore;
  /** PostgreSQL's port. */
  readonly port: number;
  /** The app's database: its absence marks a bare cluster; the drill counts its rows. */
  readonly database: string;
  /** Encryption passphrase of the repository (secret). */
  readonly cipherPass: pulumi.Input<string>;
  /** OnCalendar of the backup. */
  readonly schedule: string;
  /** OnCalendar of the restore drill. */
  readonly drillSchedule: string;
  /** What is kept. */
  readonly retention: Retention;
}

/** The drill's last result, as the host wrote it. */
export interface DrillResult {
  /** Whether the restore and the check query worked. */
  readonly ok: boolean;
  /** When the drill ended (ISO 8601). */
  readonly finishedAt?: string;
  /** Age of the restored backup when it was restored. */
  readonly backupAgeSeconds?: number;
  /** The backup restored. */
  readonly backupLabel?: string;
  /** Rows per table in the restored copy. */
  readonly tables?: Record<string, number>;
  /** Why it failed. */
  readonly error?: string;
}

export class PgBackup extends pulumi.ComponentResource {
  /** What must exist before PostgreSQL is configured to archive (restore, stanza). */
  public readonly beforeArchiving: pulumi.Resource[];
  /** Reads the restore drill's last result on every refresh. */
  public readonly lastDrill: pulumi.Output<DrillResult | null>;
  private readonly args: PgBackupArgs;
  private readonly name: string;

  constructor(name: string, args: PgBackupArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:PgBackup", name, {}, opts);
    this.args = args;
    this.name = name;
    const h = args.host;
    const s = args.store;
    const pg = h.facts.release.postgresql;
    const data = `/var/lib/postgresql/${pg}/main`;
    const unit = `postgresql@${pg}-main.service`;
    const asPg = (line: string) => `runuser -u postgres -- ${line}`;

    // The CA bundle (a private object store's) is part of the host's baseline (fleet/objectStoreCa.ts).
    const conf = pulumi.output(args.cipherPass).apply((cipherPass) => renderPgBackRestConf({
      stanza: STANZA, pgPath: data, pgPort: args.port,
      endpoint: s.host, port: s.port, bucket: s.bucket, region: s.region, pathStyle: s.pathStyle,
      repoPath: `/${s.prefix}/pgbackrest`, caFile: s.caFile ? HOST_CA_FILE : undefined,
      accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, cipherPass,
      archiveRetentionFulls: Math.max(args.retention.daily, 1),
    }));
    // Written beside the live file first: pgBackRest proves it can use the target with it
    // (stanza-create) before it becomes the file archive_command reads, so wrong keys or a
    // wrong endpoint fail `up` without breaking the archiving that works. Readable by
    // postgres (archive_command runs as postgres), by no one else.
    const candidate = h.file(`${name}-conf`, {
      path: CANDIDATE_CONF, content: conf, secret: true,
      owner: "root", group: "postgres", mode: "0640",
    }, { parent: this });
    const confHash = conf.apply(shortHash);
    // A configuration change that moves the repository is a new repository.
    const repoKey = shortHash(JSON.stringify([s.endpoint, s.bucket, s.prefix, s.region, s.pathStyle]));
    const pgbr = (args: string) => asPg(`pgbackrest --config=${CANDIDATE_CONF} --stanza=${STANZA} ${args}`);
    // Backups in the repository; an error reaching it fails the step (never read as "none").
    const backupCount = script(
      `json=$(${pgbr("--output=json info")} 2>&1) || { printf '%s\n' "$json" >&2; echo ${cmd("pgBackRest cannot read the backup target. Fix: check backup.target (endpoint, bucket, region, pathStyle, accessKeyId, secretAccessKey, caFile)")} >&2; exit 1; }`,
      `backups=$(printf '%s' "$json" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d[0].get("backup", [])) if d else 0)')`,
    );
    const appDbs = `cd / && ${asPg(`psql -XAtc ${cmd("SELECT count(*) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')")}`)}`;
    const restore = h.script(`${name}-restore-if-bare`, {
      description: "restore a bare cluster from the latest backup",
      create: script(
        // Only a cluster that answers and holds nothing but PostgreSQL's own databases is
        // bare. One that does not answer is a problem to look at, never to overwrite.
        `systemctl start ${unit}`,
        `for _ in $(seq 1 30); do ${asPg("pg_isready -q")} && break; sleep 1; done`,
        `n=$(${appDbs}) || { echo ${cmd(`PostgreSQL on ${h.plan.name} does not answer; not restoring anything. Look at: journalctl -u ${unit}`)} >&2; exit 1; }`,
        `if [ "$n" != 0 ]; then exit 0; fi`,
        backupCount,
        `if [ "$backups" = 0 ]; then echo "no backup in the repository yet: keeping the new, empty cluster"; exit 0; fi`,
        // Told in the journal too (and so on the logging host): a restore is an event to find later.
        `say() { echo "$1"; logger -t django-fleet-restore -- "$1"; }`,
        `say ${cmd(`${h.plan.name}: the cluster is bare and the repository has backups; restoring the latest, with all archived WAL`)}`,
        `start=$(date +%s)`,
        `systemctl stop ${unit}`,
        pgbr("--delta --log-level-console=info restore"),
        `systemctl start ${unit}`,
        // Recovery replays the archive, then promotes; the app may connect only after.
        `for _ in $(seq 1 600); do [ "$(cd / && ${asPg("psql -XAtc 'SELECT pg_is_in_recovery()'")} 2>/dev/null)" = f ] && break; sleep 1; done`,
        `[ "$(cd / && ${asPg("psql -XAtc 'SELECT pg_is_in_recovery()'")})" = f ] || { echo "the restored cluster did not finish recovery in 10 minutes" >&2; exit 1; }`,
        `cd / && ${asPg(`psql -Xq -v ON_ERROR_STOP=1 ${FORGET_RESTORE_SETTINGS} -c 'SELECT pg_reload_conf()'`)} >/dev/null`,
        `say "restored and promoted in $(( $(date +%s) - start )) s"`,
      ),
      // An assignment, so a cluster that does not answer (or no PostgreSQL at all) fails the check.
      check: script(`n=$(${appDbs})`, `[ "$n" != 0 ]`),
      triggers: { repository: repoKey },
    }, { parent: this, dependsOn: [candidate] });

    const stanza = h.script(`${name}-stanza`, {
      description: "pgBackRest stanza on the backup target",
      create: script(
        `if ! out=$(${pgbr("--log-level-console=warn stanza-create")} 2>&1); then`,
        `  printf '%s\n' "$out" >&2`,
        `  echo ${cmd("pgBackRest cannot use the backup target; PostgreSQL and its archiving were not changed. Fix: check backup.target (endpoint, bucket, region, pathStyle, accessKeyId, secretAccessKey, caFile); if the repository there was made by another stack (another encryption key), give this stack its own backup.target.prefix")} >&2`,
        "  exit 1",
        "fi",
        `install -m 0640 -o root -g postgres ${CANDIDATE_CONF} ${LIVE_CONF}`,
      ),
      check: script(`cmp -s ${CANDIDATE_CONF} ${LIVE_CONF}`, `${pgbr("--output=json info")} >/dev/null 2>&1`),
      triggers: { repository: repoKey, conf: confHash },
    }, { parent: this, dependsOn: [restore] });
    this.beforeArchiving = [stanza];

    const planner = h.file(`${name}-planner`, {
      path: PLANNER, mode: "0755",
      content: readFileSync(new URL("../../assets/pgbackrest-gfs.py", import.meta.url), "utf8"),
    }, { parent: this });
    const backupScript = h.file(`${name}-script`, {
      path: BACKUP_SCRIPT, mode: "0755",
      content: renderPgBackupScript({ stanza: STANZA, retention: args.retention, planner: PLANNER }),
    }, { parent: this });
    const drillScript = h.file(`${name}-drill-script`, {
      path: DRILL_SCRIPT, mode: "0755",
      content: renderPgRestoreDrillScript({ stanza: STANZA, pgVersion: pg, database: args.database, resultFile: DRILL_RESULT }),
    }, { parent: this });
    const units = [
      timedJob(this, name, h, BACKUP_UNIT, "postgres", BACKUP_SCRIPT, "PostgreSQL backup (pgBackRest)", args.schedule, [backupScript, planner, stanza]),
      timedJob(this, `${name}-drill`, h, DRILL_UNIT, "root", DRILL_SCRIPT, "restore drill of the latest PostgreSQL backup", args.drillSchedule, [drillScript, stanza]),
    ];
    this.units = units;
    this.lastDrill = h.probe<DrillResult | null>(`${name}-last-drill`, {
      description: "the restore drill's last result",
      probe: script(`if [ -s ${DRILL_RESULT} ]; then printf 'FLEET_FACT=%s\\n' "$(tr -d '\\n' < ${DRILL_RESULT})"; else echo 'FLEET_FACT=null'; fi`),
    }, { parent: this, dependsOn: units }).value;
    this.registerOutputs({});
  }

  /** The backup and drill timers (with their services' files). */
  public readonly units: pulumi.Resource[];

  /**
   * After PostgreSQL archives: `pgbackrest check` (a WAL segment really reaches the
   * repository), then a first backup if the repository has none, so a server lost on day
   * one can already be rebuilt.
   */
  public firstBackup(after: pulumi.Resource[]): RemoteScript {
    const h = this.args.host;
    const asPg = (line: string) => `runuser -u postgres -- ${line}`;
    const hasBackup = `${asPg(`pgbackrest --stanza=${STANZA} --output=json info`)} 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d and d[0].get("backup") else 1)'`;
    return h.script(`${this.name}-first`, {
      description: "pgbackrest check, and a first full backup",
      create: script(
        `if ! out=$(${asPg(`pgbackrest --stanza=${STANZA} --log-level-console=warn check`)} 2>&1); then`,
        `  printf '%s\\n' "$out" >&2`,
        `  echo ${cmd("WAL does not reach the backup target. Fix: check backup.target, and the journal of PostgreSQL for archive_command errors")} >&2`,
        "  exit 1",
        "fi",
        `if ! ${hasBackup}; then`,
        `  echo "first full backup (later ones run on the timer ${BACKUP_UNIT}.timer)"`,
        `  systemctl start ${BACKUP_UNIT}.service`,
        "fi",
      ),
      check: script(hasBackup),
    }, { parent: this, dependsOn: [...after, ...this.units] });
  }
}
