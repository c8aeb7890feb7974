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

/** One folder of the layout. */
export interface LayoutFolder {
  readonly path: string;
  readonly owner: string;
  readonly group: string;
  /** Octal, 4 digits. */
  readonly mode: string;
}

/** The app's system user and its folders, as data: {@link layoutScript} makes them, the benchmark's peers too. */
export interface AppLayout {
  /** The system user, and its group of the same name. */
  readonly user: string;
  /** Its home: `/srv/<app>`. */
  readonly home: string;
  /** It logs in nowhere. */
  readonly shell: string;
  /**
   * Made by root, as their parents are root's (so no app can swap them); owner, group and
   * mode set again on every run. The first is the home, `/srv/<app>`.
   */
  readonly rootMade: readonly LayoutFolder[];
  /** Made by the app's user, as itself, inside the home: root never follows a link it planted there. */
  readonly userMade: readonly LayoutFolder[];
}

export function appLayout(app: string): AppLayout {
  const p = appPaths(app);
  const own = (path: string, mode: string): LayoutFolder => ({ path, owner: app, group: app, mode });
  return {
    user: app, home: p.root, shell: "/usr/sbin/nologin",
    rootMade: [{ path: p.root, owner: app, group: NGINX_USER, mode: "0710" }, own(p.state, "0750")],
    userMade: [own(p.releases, "0750"), ...[p.log, `${p.root}/public`, p.static, p.media, p.shared].map((x) => own(x, "0755"))],
  };
}

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
  const l = appLayout(app);
  const home = l.rootMade[0]!;
  const user = cmd(app);
  // The user's folders, one `install` per mode, in order.
  const modes = [...new Set(l.userMade.map((f) => f.mode))];
  return script(
    // An account that exists with another home is not ours: never run the app as it.
    `if id -u ${user} >/dev/null 2>&1; then`,
    `  home=$(getent passwd ${user} | cut -d: -f6)`,
    `  if [ "$home" != ${cmd(p.root)} ]; then echo "the account "${user}" exists already (home $home) and was not made by django-fleet; choose another app.name" >&2; exit 3; fi`,
    `else`,
    `  useradd --system --user-group --home-dir ${cmd(l.home)} --shell ${l.shell} -- ${user}`,
    "fi",
    // A shell given by hand (a login for debugging, say) is taken back.
    `if [ "$(getent passwd ${user} | cut -d: -f7)" != ${cmd(l.shell)} ]; then usermod --shell ${cmd(l.shell)} -- ${user}; fi`,
    // Root makes the two folders whose parents are root's (so no app can swap them); what
    // is inside them the app user makes, as itself: a folder it swapped for a link is
    // never followed by root.
    ...l.rootMade.map((f) => `install -d -o ${cmd(f.owner)} -g ${cmd(f.group)} -m ${f.mode} ${cmd(f.path)}`),
    `chown ${cmd(`${home.owner}:${home.group}`)} ${cmd(home.path)}`,
    ...l.rootMade.map((f) => `chmod ${f.mode} ${cmd(f.path)}`),
    appScript({ user: app, home: l.home },
      ...modes.map((m) => `install -d -m ${m} -- ${cmd(...l.userMade.filter((f) => f.mode === m).map((f) => f.path))}`)),
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

/** Every folder of the layout, in order: root's, then the user's. */
function layoutFolders(l: AppLayout): LayoutFolder[] {
  return [...l.rootMade, ...l.userMade];
}

/** The line nginx's group membership reads as; `member`: www-data is in the app's group. */
function nginxLine(app: string, member: boolean): string {
  return `${NGINX_USER} ${member ? "in" : "not in"} group ${app}`;
}

/**
 * The layout as {@link layoutRead} prints it when in place: the user with its home and
 * shell, each folder with its mode, owner and group, nginx not in the app's group.
 */
export function layoutState(app: string): string {
  const l = appLayout(app);
  return [
    `user ${l.user} home=${l.home} shell=${l.shell}`,
    ...layoutFolders(l).map((f) => `folder ${f.path} ${f.mode} ${f.owner} ${f.group}`),
    nginxLine(app, false),
  ].join("\n");
}

/**
 * Prints the layout as found (read-only; refresh stores it, so a drift previews as the
 * line that changed): the user (or `user <app> absent`), each folder (`absent`, or what
 * it is when not a folder: a link planted in its place), nginx's membership.
 */
export function layoutRead(app: string): string {
  const l = appLayout(app);
  const user = cmd(app);
  return script(
    `if ent=$(getent passwd ${user}); then`,
    `  IFS=: read -r _ _ _ _ _ home shell <<<"$ent"`,
    `  printf 'user %s home=%s shell=%s\\n' ${user} "$home" "$shell"`,
    "else",
    `  printf 'user %s absent\\n' ${user}`,
    "fi",
    // Not following a link: a folder swapped for one shows as what it is.
    "folder() {",
    "  local kind s m",
    `  if ! kind=$(stat -c %F -- "$1" 2>/dev/null); then printf 'folder %s absent\\n' "$1"; return 0; fi`,
    `  if [ "$kind" != directory ]; then printf 'folder %s is a %s\\n' "$1" "$kind"; return 0; fi`,
    `  s=$(stat -c '%a %U %G' -- "$1")`,
    // stat prints 710; the layout says 0710.
    `  m=000\${s%% *}`,
    `  printf 'folder %s %s %s\\n' "$1" "\${m: -4}" "\${s#* }"`,
    "}",
    ...layoutFolders(l).map((f) => `folder ${cmd(f.path)}`),
    `if ${memberOf(NGINX_USER, app)}; then echo ${cmd(nginxLine(app, true))}; else echo ${cmd(nginxLine(app, false))}; fi`,
  );
}
