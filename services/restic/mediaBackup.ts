/**
 * MediaBackup: on a single-host stack that keeps uploads on disk (`media.storage:
 * local`), the uploads folder is backed up with restic to the backup target on the same
 * timer as the database, with the same retention and a key of its own. A host that comes
 * back with no uploads while the repository has a snapshot gets the latest one back
 * before the app serves again.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ObjectStore } from "../../config/objectStore.ts";
import { HOST_CA_FILE } from "../../config/objectStore.ts";
import { cmd, script } from "../../lib/shell.ts";
import { renderResticEnv, resticPrelude, resticSnapshotCount } from "./env.ts";
import { mediaRestoreCommands, renderMediaBackupScript } from "./mediaBackupScript.ts";
import { mediaKeyCheck, mediaKeyScript, OLD_KEY_VAR } from "./mediaKey.ts";
import type { RemoteScript } from "../../providers/remoteScript.ts";
import type { Host } from "../../components/host.ts";
import type { Retention } from "../pgbackrest/pgBackup.ts";
import { timedJob } from "../../components/timedJob.ts";

/** The unit an operator starts by hand: `systemctl start django-fleet-media-backup` (another app's: `...-<app>`). */
export const MEDIA_BACKUP_UNIT = "django-fleet-media-backup";

export interface MediaBackupArgs {
  /** The one host that runs the app. */
  readonly host: Host;
  /** Where backups go. */
  readonly store: ObjectStore;
  /** restic repository password (secret): the uploads' own key. */
  readonly password: pulumi.Input<string>;
  /** The key the repository may still be keyed with (the database backups', secret): its entry is removed. */
  readonly previousPassword: pulumi.Input<string>;
  /** The uploads folder, as the project's settings name it (MEDIA_ROOT). */
  readonly mediaRoot: pulumi.Input<string>;
  /** The app's user, who owns restored uploads. */
  readonly owner: string;
  /** OnCalendar of the backup. */
  readonly schedule: string;
  /** What is kept. */
  readonly retention: Retention;
  /** The release is in place (its settings were read). */
  readonly after: pulumi.Resource[];
  /** Keeps this app's job, files and snapshots apart from another app's on the host. @default none (the stack's first app) */
  readonly label?: string;
}

export class MediaBackup extends pulumi.ComponentResource {
  /** Uploads are back (or there were none to restore): the app may serve. */
  public readonly restored: RemoteScript;

  constructor(name: string, args: MediaBackupArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:MediaBackup", name, {}, opts);
    const h = args.host;
    const s = args.store;
    const sfx = args.label ? `-${args.label}` : "";
    const ENV_FILE = `/etc/django-fleet/restic-media${sfx}.env`;
    const SCRIPT = `/usr/local/sbin/django-fleet-media-backup${sfx}`;
    const SNAPSHOT_HOST = `django-fleet-media${sfx}`;
    const env = pulumi.output(args.password).apply((password) => renderResticEnv({
      repository: `s3:${s.endpoint}/${s.bucket}/${s.prefix}/media`,
      caFile: s.caFile ? HOST_CA_FILE : undefined, region: s.region,
      accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, password,
    }));
    const envFile = h.file(`${name}-env`, { path: ENV_FILE, content: env, secret: true, mode: "0600" }, { parent: this });
    const root = pulumi.output(args.mediaRoot);
    const backupScript = h.file(`${name}-script`, {
      path: SCRIPT, mode: "0755",
      content: root.apply((mediaRoot) => renderMediaBackupScript({
        envFile: ENV_FILE, host: SNAPSHOT_HOST, retention: args.retention, pathStyle: s.pathStyle, mediaRoot,
      })),
    }, { parent: this });
    // A repository made with the database backups' key gets its own key first.
    const key = h.script(`${name}-key`, {
      description: "the uploads repository opens with its own key, not the database backups'",
      create: mediaKeyScript(ENV_FILE, s.pathStyle),
      check: mediaKeyCheck(ENV_FILE, s.pathStyle),
      // The media key is read from the env file; it is here so that a change of either re-runs the step.
      secrets: { [OLD_KEY_VAR]: args.previousPassword, MEDIA_BACKUP_KEY: args.password },
    }, { parent: this, dependsOn: [envFile] });
    // No repository yet (before the first backup) counts as no snapshot.
    const restic = script(
      ...resticPrelude(ENV_FILE, s.pathStyle),
      `if r cat config >/dev/null 2>&1; then ${resticSnapshotCount(SNAPSHOT_HOST, "django-fleet-media")}; else n=0; fi`,
    );
    const empty = (dir: string) => `[ -z "$(ls -A ${cmd(dir)} 2>/dev/null)" ]`;
    this.restored = h.script(`${name}-restore-if-empty`, {
      description: "uploads restored from the latest backup when the folder is empty",
      create: root.apply((dir) => script(
        restic,
        `if ! ${empty(dir)} || [ "$n" = 0 ]; then exit 0; fi`,
        `say() { echo "$1"; logger -t django-fleet-restore -- "$1"; }`,
        `say ${cmd(`${h.plan.name}: ${dir} is empty and the repository has a backup of it; restoring the latest`)}`,
        ...mediaRestoreCommands(dir, args.owner, SNAPSHOT_HOST),
        `say ${cmd(`${dir} restored`)}`,
      )),
      check: root.apply((dir) => script(restic, `! ${empty(dir)} || [ "$n" = 0 ]`)),
      triggers: { mediaRoot: root },
    }, { parent: this, dependsOn: [envFile, key, ...args.after] });
    timedJob(this, name, h, `${MEDIA_BACKUP_UNIT}${sfx}`, "root", SCRIPT, "uploads backup (restic)", args.schedule, [backupScript, this.restored]);
    this.registerOutputs({});
  }
}
