/**
 * The app's system user and folders on a host, as pure script builders (run by the
 * `layout` step of services/app/appRelease.ts).
 *
 * Who may enter `/srv/<app>`: its user, and nginx (group www-data) with search only
 * (0710), to reach the static and media folders (0755) inside; other apps' users not at
 * all. nginx is not in the app's group: the group reaches the app's source and
 * everything else the app keeps 0750/0640, which a link planted in a served folder could
 * lead nginx to (services/nginx/nginxSite.ts refuses such links too).
 */
import { appPaths } from "../../components/paths.ts";
import { appScript } from "../../lib/pythonInstall.ts";
import { cmd, script } from "../../lib/shell.ts";

/** nginx's user and group on Debian. */
export const NGINX_USER = "www-data";

/** `/srv/<app>`'s mode, owner and group, as `stat -c '%a %U %G'` prints them. */
export function appRootStat(app: string): string {
  return `710 ${app} ${NGINX_USER}`;
}

/**
 * Exits 0 when `user` is a member of `group`. grep without -q: an early exit would fail
 * the pipeline under pipefail, and read as "not a member".
 */
function memberOf(user: string, group: string): string {
  return `id -nG ${cmd(user)} | tr ' ' '\\n' | grep -x -- ${cmd(group)} >/dev/null`;
}

/** Makes the user and folders (idempotent); takes back the app group an older layout gave nginx. */
export function layoutScript(app: string): string {
  const p = appPaths(app);
  const user = cmd(app);
  return script(
    // An account that exists with another home is not ours: never run the app as it.
    `if id -u ${user} >/dev/null 2>&1; then`,
    `  home=$(getent passwd ${user} | cut -d: -f6)`,
    `  if [ "$home" != ${cmd(p.root)} ]; then echo "the account "${user}" exists already (home $home) and was not made by django-fleet; choose another app.name" >&2; exit 3; fi`,
    `else`,
    `  useradd --system --user-group --home-dir ${cmd(p.root)} --shell /usr/sbin/nologin -- ${user}`,
    "fi",
    // Root makes the two folders whose parents are root's (so no app can swap them); what
    // is inside them the app user makes, as itself: a folder it swapped for a link is
    // never followed by root.
    `install -d -o ${user} -g ${NGINX_USER} -m 0710 ${cmd(p.root)}`,
    `install -d -o ${user} -g ${user} -m 0750 ${cmd(p.state)}`,
    `chown ${cmd(`${app}:${NGINX_USER}`)} ${cmd(p.root)}`,
    `chmod 0710 ${cmd(p.root)}`,
    `chmod 0750 ${cmd(p.state)}`,
    appScript({ user: app, home: p.root },
      `install -d -m 0750 -- ${cmd(p.releases)}`,
      `install -d -m 0755 -- ${cmd(p.log)} ${cmd(`${p.root}/public`)} ${cmd(p.static)} ${cmd(p.media)} ${cmd(p.shared)}`),
    // Layouts before this one put nginx in the app's group. Its workers take their groups
    // when they start, so nginx is reloaded once the membership is gone.
    `if ${memberOf(NGINX_USER, app)}; then`,
    `  gpasswd -d ${NGINX_USER} ${user} >/dev/null`,
    "  if systemctl is-active --quiet nginx; then nginx -t -q && systemctl reload nginx; fi",
    "fi",
  );
}

/** Exits 0 while the layout is in place: refresh finds a folder gone, a changed mode, nginx back in the app's group. */
export function layoutCheck(app: string): string {
  const p = appPaths(app);
  return script(
    `id -u ${cmd(app)} >/dev/null`,
    `test -d ${cmd(p.static)} -a -d ${cmd(p.media)} -a -d ${cmd(p.state)} -a -d ${cmd(p.releases)}`,
    `[ "$(stat -c '%a %U %G' ${cmd(p.root)})" = ${cmd(appRootStat(app))} ]`,
    `if ${memberOf(NGINX_USER, app)}; then exit 1; fi`,
  );
}
