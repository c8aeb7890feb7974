/**
 * The uploads backup of a single-host stack that keeps media on disk (MediaBackup's timed
 * job), and the restore of its latest snapshot.
 */
import { cmd, quote } from "../../lib/shell.ts";
import { assertMatches, assertPath, renderLines } from "../../lib/render.ts";
import { resticPrelude } from "./env.ts";
import { checkRetention, scriptHead, type BackupRetention } from "./jobScript.ts";

/** Options for {@link renderMediaBackupScript}. */
export interface MediaBackupScriptOptions {
  /** The env file {@link renderResticEnv} (env.ts) renders (0600 root). */
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
