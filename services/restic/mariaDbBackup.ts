/**
 * MariaDbBackup: a consistent dump of the app's database (`mariadb-dump
 * --single-transaction`) streamed into restic on a systemd timer, to the S3 target,
 * encrypted with a generated key; restic enforces the retention after every backup.
 * A server that comes back without the app's database, while the repository has a
 * snapshot, gets the latest snapshot loaded before the database step runs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ObjectStore } from "../../config/objectStore.ts";
import { HOST_CA_FILE } from "../../config/objectStore.ts";
import { cmd, script } from "../../lib/shell.ts";
import { mariaLiteral } from "../../lib/sql.ts";
import { renderResticEnv, resticPrelude, resticSnapshotCount } from "./env.ts";
import { MARIADB_DUMP_FILENAME, renderMariaDbBackupScript } from "./mariaDbBackupScript.ts";
import type { RemoteScript } from "../../providers/remoteScript.ts";
import type { Host } from "../../components/host.ts";
import type { Retention } from "../pgbackrest/pgBackup.ts";
import { BACKUP_UNIT } from "../pgbackrest/pgBackup.ts";
import { timedJob } from "../../components/timedJob.ts";

const ENV_FILE = "/etc/django-fleet/restic.env";
const BACKUP_SCRIPT = "/usr/local/sbin/django-fleet-backup";
/** The snapshot host name restic files the dumps under: stable across a rebuilt server. */
export const SNAPSHOT_HOST = "django-fleet-mariadb";

export interface MariaDbBackupArgs {
  /** The MariaDB primary's host. */
  readonly host: Host;
  /** Where backups go. */
  readonly store: ObjectStore;
  /** The app's database: dumped, and restored when missing. */
  readonly database: string;
  /** restic repository password (secret). */
  readonly password: pulumi.Input<string>;
  /** OnCalendar of the backup. */
  readonly schedule: string;
  /** What is kept. */
  readonly retention: Retention;
  /** MariaDB running. */
  readonly after: pulumi.Resource[];
}

export class MariaDbBackup extends pulumi.ComponentResource {
  /** Done before the database step: the repository exists, and a bare server is restored. */
  public readonly restored: RemoteScript;
  private readonly timer: pulumi.Resource;
  private readonly args: MariaDbBackupArgs;
  private readonly name: string;

  constructor(name: string, args: MariaDbBackupArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:MariaDbBackup", name, {}, opts);
    this.args = args;
    this.name = name;
    const h = args.host;
    const s = args.store;
    const env = pulumi.output(args.password).apply((password) => renderResticEnv({
      repository: `s3:${s.endpoint}/${s.bucket}/${s.prefix}/restic`,
      caFile: s.caFile ? HOST_CA_FILE : undefined, region: s.region,
      accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, password,
    }));
    const envFile = h.file(`${name}-env`, { path: ENV_FILE, content: env, secret: true, mode: "0600" }, { parent: this });
    const backupScript = h.file(`${name}-script`, {
      path: BACKUP_SCRIPT, mode: "0755",
      content: renderMariaDbBackupScript({ envFile: ENV_FILE, host: SNAPSHOT_HOST, retention: args.retention, pathStyle: s.pathStyle, database: args.database }),
    }, { parent: this });
    const restic = "r";
    const loadEnv = script(...resticPrelude(ENV_FILE, s.pathStyle));
    const hasDb = `[ "$(mariadb --batch --skip-column-names -e ${cmd(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${mariaLiteral(args.database)}`)})" = 1 ]`;
    this.restored = h.script(`${name}-restore-if-bare`, {
      description: "restic repository, and a bare server restored from it",
      create: script(
        loadEnv,
        `if ! out=$(${restic} cat config 2>&1 >/dev/null); then`,
        `  if ! out=$(${restic} init 2>&1); then printf '%s\\n' "$out" >&2; echo ${cmd("restic cannot use the backup target; MariaDB was not changed. Fix: check backup.target (endpoint, bucket, region, pathStyle, accessKeyId, secretAccessKey, caFile)")} >&2; exit 1; fi`,
        "fi",
        `if ${hasDb}; then exit 0; fi`,
        resticSnapshotCount(SNAPSHOT_HOST, "django-fleet"),
        `if [ "$n" = 0 ]; then echo "no backup in the repository yet: a new database"; exit 0; fi`,
        // Told in the journal too (and so on the logging host): a restore is an event to find later.
        `say() { echo "$1"; logger -t django-fleet-restore -- "$1"; }`,
        `say ${cmd(`${h.plan.name}: the database ${args.database} is missing and the repository has a backup; loading the latest`)}`,
        `start=$(date +%s)`,
        `${restic} dump --host ${SNAPSHOT_HOST} --tag django-fleet latest /${MARIADB_DUMP_FILENAME} | mariadb`,
        `say "restored in $(( $(date +%s) - start )) s"`,
      ),
      check: script(loadEnv, `${restic} cat config >/dev/null 2>&1`, hasDb),
      triggers: { repository: `${s.endpoint}/${s.bucket}/${s.prefix}` },
    }, { parent: this, dependsOn: [envFile, ...args.after] });
    this.timer = timedJob(this, name, h, BACKUP_UNIT, "root", BACKUP_SCRIPT, "MariaDB backup (mariadb-dump into restic)", args.schedule, [backupScript, this.restored]);
    this.registerOutputs({});
  }

  /** After the database exists: a first backup if the repository has none. */
  public firstBackup(after: pulumi.Resource[]): RemoteScript {
    const s = this.args.store;
    const loadEnv = script(...resticPrelude(ENV_FILE, s.pathStyle));
    // Assigned first: a repository that cannot be read fails the step, never reads as "no backup".
    const count = resticSnapshotCount(SNAPSHOT_HOST, "django-fleet");
    return this.args.host.script(`${this.name}-first`, {
      description: "a first backup",
      create: script(loadEnv, count, `if [ "$n" = 0 ]; then systemctl start ${BACKUP_UNIT}.service; fi`),
      check: script(loadEnv, count, `[ "$n" != 0 ]`),
    }, { parent: this, dependsOn: [...after, this.timer] });
  }
}
