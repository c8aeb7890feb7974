/**
 * The collected static files of an app, copied to a load balancer that runs none of the
 * app's code: read on the app host as the app's user (a tar stream), written on the load
 * balancer by root into root's own folder, and the app's leftovers there removed. Pure:
 * the scripts and what their output means (providers/staticCopy.ops.ts runs them).
 */
import { asUser } from "./releaseAsApp.ts";
import { cmd, heredoc, script } from "./shell.ts";

/** The folder of root's on a load balancer that holds every app's copies. */
export const STATIC_BASE = "/var/lib/django-fleet/static";

/** Where a load balancer keeps an app's static files: root's, readable by nginx, never the app's. */
export function lbStaticPaths(app: string, base: string = STATIC_BASE) {
  const root = `${base}/${app}`;
  return {
    /** root's folder of the app's copies; nginx serves `current` below it. */
    root,
    /** A link to the copy of the release being served (moved only once that copy is complete). */
    current: `${root}/current`,
    /** Where a copy is unpacked before it is moved into place. */
    incoming: `${root}/.incoming`,
    /** The copy of one release. */
    release: (id: string) => `${root}/${id}`,
  };
}

/** The line the LB scripts print with the copy's digest. */
export const DIGEST_PREFIX = "FLEET_DIGEST=";

/** A release id as lib/paths makes them (12 hex digits): it names a folder, so nothing else. */
function releaseName(id: string): string {
  if (!/^[0-9a-f]{12}$/.test(id)) throw new Error(`static copy: release ${JSON.stringify(id)} is not a 12-digit commit prefix`);
  return id;
}

/**
 * On the app host: the STATIC_ROOT as a gzipped tar, base64 on one line. tar runs as the
 * app's user, so it reads only what the app may read; links are archived as the files they
 * point to (--dereference), so none reaches the load balancer. An app without collected
 * static files (`staticRoot` null: WhiteNoise, no staticfiles) sends an empty archive.
 */
export function packScript(app: string, staticRoot: string | null): string {
  const tar = staticRoot
    ? `${asUser(app)} env -i PATH=/usr/bin:/bin tar --dereference --numeric-owner -C ${cmd(staticRoot)} -czf - .`
    : "tar -czf - --files-from /dev/null";
  // cd /: runuser keeps root's working folder, which the app's user cannot enter.
  return script("cd /", `${tar} | base64 -w 0`);
}

/** The digest of a copy: every entry's type, mode and path, and every file's bytes. */
function digestCommands(dir: string): string[] {
  return [
    `cd -- ${cmd(dir)}`,
    `d=$( { find . -printf '%y %m %p\\n' | LC_ALL=C sort; find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum; } | sha256sum | cut -c1-64)`,
    `echo ${DIGEST_PREFIX}"$d"`,
  ];
}

/**
 * On the load balancer: unpacks `archive` (base64 from {@link packScript}) into a fresh
 * folder of root's, keeps only plain files and folders (no link, device or fifo is ever
 * served), makes them root's and world-readable, moves it into place as the release's copy,
 * points `current` at it, and removes older copies but the one served until now (pages
 * rendered before the switch still ask for its files). Prints the copy's digest.
 */
export function unpackScript(app: string, release: string, archive: string, base: string = STATIC_BASE): string {
  const p = lbStaticPaths(app, base);
  const id = releaseName(release);
  if (!/^[A-Za-z0-9+/=]*$/.test(archive)) throw new Error("static copy: the archive from the app host is not base64");
  return script(
    "umask 022",
    // nginx (www-data) passes through every folder above the copy: the parent, shared with
    // root's other files, may have been made 0700 before.
    `install -d -o root -g root -m 0755 ${cmd(base.replace(/\/[^/]+$/, "") || "/")} ${cmd(base)} ${cmd(p.root)}`,
    `rm -rf -- ${cmd(p.incoming)}`,
    `install -d -o root -g root -m 0700 ${cmd(p.incoming)}`,
    `base64 -d > ${cmd(`${p.incoming}.tgz`)} ${heredoc(archive)}`,
    `tar -xzf ${cmd(`${p.incoming}.tgz`)} -C ${cmd(p.incoming)} --no-same-owner --no-same-permissions --no-overwrite-dir`,
    `rm -f -- ${cmd(`${p.incoming}.tgz`)}`,
    `find ${cmd(p.incoming)} -mindepth 1 ! -type f ! -type d -delete`,
    `chown -R root:root ${cmd(p.incoming)}`,
    `chmod -R u=rwX,go=rX ${cmd(p.incoming)}`,
    `old=$(readlink -- ${cmd(p.current)} || true)`,
    `rm -rf -- ${cmd(p.release(id))}`,
    `mv -T -- ${cmd(p.incoming)} ${cmd(p.release(id))}`,
    `ln -sfn -- ${cmd(id)} ${cmd(`${p.current}.new`)}`,
    `mv -T -- ${cmd(`${p.current}.new`)} ${cmd(p.current)}`,
    // Only root writes in this folder: its entries are what the loop says they are.
    `for d in ${cmd(p.root)}/*; do`,
    `  n=\${d##*/}`,
    `  [ "$n" = current ] || [ "$n" = ${cmd(id)} ] || [ "$n" = "$old" ] || rm -rf -- "$d"`,
    "done",
    ...digestCommands(p.release(id)),
  );
}

/** On the load balancer: the digest of the served copy, or nothing when `current` is not the release's copy. */
export function digestScript(app: string, release: string, base: string = STATIC_BASE): string {
  const p = lbStaticPaths(app, base);
  const id = releaseName(release);
  return script(
    `[ "$(readlink -- ${cmd(p.current)} || true)" = ${cmd(id)} ] && [ -d ${cmd(p.release(id))} ] || exit 0`,
    ...digestCommands(p.release(id)),
  );
}

/** The digest a script printed, or undefined. */
export function parseDigest(stdout: string): string | undefined {
  const line = stdout.split("\n").reverse().find((l) => l.startsWith(DIGEST_PREFIX));
  const d = line?.slice(DIGEST_PREFIX.length).trim();
  return d && /^[0-9a-f]{64}$/.test(d) ? d : undefined;
}

/** On the load balancer, when the app is removed from it: its copies. */
export function removeCopiesScript(app: string): string {
  return script(`rm -rf -- ${cmd(lbStaticPaths(app).root)}`);
}

/**
 * On a load balancer that no longer runs the app's code (a stack made when it did): the
 * app's env file, tree, state folder, units and user. Nothing stateful of the app lives
 * there: its database and secrets are elsewhere, and uploads were never on this host
 * (they land on the app host, or in the object store). rm does not follow the links the
 * app's user may have made in its tree; its processes are stopped before its user goes.
 */
export function leftoversScript(app: string): string {
  const user = cmd(app);
  const srv = cmd(`/srv/${app}`);
  return script(
    `if id -u ${user} >/dev/null 2>&1 && [ "$(getent passwd ${user} | cut -d: -f6)" = ${srv} ]; then`,
    `  for u in ${cmd(`${app}-gunicorn.service`)} ${cmd(`${app}-gunicorn.socket`)} ${cmd(`${app}-celery-worker.service`)} ${cmd(`${app}-celery-beat.service`)}; do`,
    `    if [ -e "/etc/systemd/system/$u" ]; then systemctl disable --now -- "$u" >/dev/null 2>&1 || true; rm -f -- "/etc/systemd/system/$u"; fi`,
    "  done",
    "  systemctl daemon-reload",
    `  pkill -KILL -u ${user} || true`,
    `  rm -rf --one-file-system -- ${srv} ${cmd(`/etc/${app}`)} ${cmd(`/var/lib/${app}`)}`,
    `  userdel -- ${user} 2>/dev/null || true`,
    `  if getent group ${user} >/dev/null; then groupdel -- ${user} 2>/dev/null || true; fi`,
    "fi",
  );
}

/** Exits 0 while none of the app's code or env file is on the load balancer. */
export function leftoversCheck(app: string): string {
  return script(`! [ -e ${cmd(`/etc/${app}/env`)} ] && ! [ -e ${cmd(`/srv/${app}`)} ]`);
}
