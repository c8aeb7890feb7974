/**
 * The scripts of a release's life on a host, as pure builders: build it beside the
 * running one, point `current` at it, keep the last few, drain a node on the load
 * balancer, and the health gate a node must pass after it switched. The provider
 * (providers/releaseSwitch.ops.ts) and services/app/appRelease.ts run them.
 */
import { posix } from "node:path";
import type { PythonProject } from "../config/pythonProject.ts";
import { appPaths, releaseId, releasePaths } from "../components/paths.ts";
import { appScript, checkScript, installScript, type InstallOptions } from "./pythonInstall.ts";
import { cmd, script } from "./shell.ts";

/** Prefix of the line a build prints when the release was built before (a rollback costs no git or pip). */
export const ALREADY_BUILT = "django-fleet: release already built:";

/** Where the used-marker lives: touched at each switch, so pruning keeps the most recently run releases. */
function usedMarker(app: string, id: string): string {
  return `${appPaths(app).releases}/${id}/.django-fleet-used`;
}

/** `runuser` as the app user. */
function asUser(app: string): string {
  return `runuser -u ${cmd(app)} --`;
}

/**
 * A script run as the app user with a clean environment: every change inside
 * /srv/<app> is made by its owner, so a folder it swapped for a link leads nowhere new.
 */
function asAppScript(app: string, ...lines: string[]): string {
  return appScript({ user: app, home: appPaths(app).root }, ...lines);
}

export interface BuildArgs {
  readonly app: string;
  readonly repo: string;
  readonly commit: string;
  readonly project: PythonProject;
  readonly install: InstallOptions;
}

function installPaths(app: string, commit: string) {
  const r = releasePaths(app, commit);
  return { user: app, home: appPaths(app).root, source: r.source, venv: r.venv };
}

/** The checks of a built release: its marker, its checkout at the commit and unedited, its virtualenv consistent. */
function builtChecks(a: BuildArgs): string[] {
  const r = releasePaths(a.app, a.commit);
  return [
    `[ -e ${cmd(r.builtMarker)} ]`,
    `[ "$(cd ${cmd(r.source)} && ${asUser(a.app)} git rev-parse HEAD)" = ${cmd(a.commit)} ]`,
    `[ -z "$(cd ${cmd(r.source)} && ${asUser(a.app)} git status --porcelain --untracked-files=no)" ]`,
  ];
}

/**
 * Builds the release of `commit` in its own folder while the running one keeps serving:
 * the repository mirror is fetched, the commit cloned from it (hard links), the
 * virtualenv made there, and the marker written last. A release built before is left as
 * it is (rollback); a half-built one (an interrupted run) is built again from scratch.
 * The first release on a host also becomes `current`, so the units can start.
 */
export function buildScript(a: BuildArgs): string {
  const p = appPaths(a.app);
  const r = releasePaths(a.app, a.commit);
  const id = releaseId(a.commit);
  const u = asUser(a.app);
  const venvCheck = checkScript(a.project, installPaths(a.app, a.commit)).trimEnd();
  return script(
    `cd ${cmd(p.root)}`,
    // Built before and intact: nothing to fetch or install.
    `if { ${builtChecks(a).join(" && ")}; } 2>/dev/null && bash -euo pipefail -c ${cmd(venvCheck)}; then echo ${cmd(`${ALREADY_BUILT} ${id}`)}; exit 0; fi`,
    // Inside the app's tree, the app user does the work (root would follow its links).
    asAppScript(a.app,
      `cd ${cmd(p.root)}`,
      `if [ "$(readlink current 2>/dev/null || true)" != ${cmd(`releases/${id}`)} ]; then rm -rf -- ${cmd(r.dir)}; fi`,
      `rm -f -- ${cmd(r.builtMarker)}`,
      `install -d -m 0750 -- ${cmd(p.releases)} ${cmd(r.dir)}`),
    `if [ ! -d ${cmd(p.repo)} ]; then ${u} git init --quiet --bare -- ${cmd(p.repo)}; fi`,
    `${u} git -C ${cmd(p.repo)} fetch --quiet --tags --force -- ${cmd(a.repo)} '+refs/heads/*:refs/heads/*'`,
    // A commit in no branch or tag (a pull request's head) is fetched by its id.
    `${u} git -C ${cmd(p.repo)} cat-file -e ${cmd(`${a.commit}^{commit}`)} 2>/dev/null || ${u} git -C ${cmd(p.repo)} fetch --quiet -- ${cmd(a.repo)} ${cmd(a.commit)}`,
    `if [ ! -d ${cmd(`${r.source}/.git`)} ]; then ${u} rm -rf -- ${cmd(r.source)}; ${u} git clone --quiet --no-checkout -- ${cmd(p.repo)} ${cmd(r.source)}; fi`,
    `cd ${cmd(r.source)}`,
    `${u} git checkout --quiet --force --detach ${cmd(a.commit)} --`,
    asAppScript(a.app, ...seedVenvCommands(a.app, a.commit)),
    installScript(a.project, installPaths(a.app, a.commit), a.install).trimEnd(),
    asAppScript(a.app,
      `install -m 0644 /dev/null ${cmd(r.builtMarker)}`,
      `cd ${cmd(p.root)}`,
      `if [ ! -e current ]; then ln -sfn -- ${cmd(`releases/${id}`)} current; ${touchUsed(a.app, id)}; fi`),
  );
}

/**
 * Starts a new release's virtualenv as a copy of the running release's, so the install
 * that follows only changes what the lock or requirements file changed (a code-only
 * deploy installs nothing). A virtualenv is not relocatable as it is: the copy's scripts
 * and activate files name the old folder, so they are rewritten to the new one. The
 * install step then brings it to exactly what the project declares (an editable install
 * of the project itself is redone there, pointing at the new checkout).
 */
export function seedVenvCommands(app: string, commit: string): string[] {
  const r = releasePaths(app, commit);
  return [
    `src=$(readlink -f -- ${cmd(`${appPaths(app).current}/venv`)} 2>/dev/null || true)`,
    `if [ ! -e ${cmd(r.venv)} ] && [ -n "$src" ] && [ "$src" != ${cmd(r.venv)} ] && [ -x "$src/bin/python" ]; then`,
    `  cp -a -- "$src" ${cmd(r.venv)}`,
    `  for f in ${cmd(r.venv)}/bin/* ${cmd(`${r.venv}/pyvenv.cfg`)}; do`,
    `    if [ -f "$f" ] && [ ! -L "$f" ] && grep -qIF -- "$src" "$f"; then sed -i "s|$src|"${cmd(r.venv)}"|g" -- "$f"; fi`,
    "  done",
    "fi",
  ];
}

/** Exits 0 while the release is built and intact (refresh finds a deleted or edited one). */
export function buildCheck(a: BuildArgs): string {
  return script(...builtChecks(a), checkScript(a.project, installPaths(a.app, a.commit)).trimEnd());
}

/** Marks a release used now (a marker root made before is replaced: the app user cannot touch it). */
function touchUsed(app: string, id: string): string {
  const m = cmd(usedMarker(app, id));
  return `{ touch -- ${m} 2>/dev/null || { rm -f -- ${m} && touch -- ${m}; }; }`;
}

/** Points `current` at a built release (atomically: a rename), and marks it used now. As the app user. */
export function linkCommands(app: string, commit: string): string[] {
  const p = appPaths(app);
  const id = releaseId(commit);
  return [asAppScript(app,
    `cd ${cmd(p.root)}`,
    `[ -e ${cmd(releasePaths(app, commit).builtMarker)} ] || { echo ${cmd(`release ${id} of ${app} is not built on this host`)} >&2; exit 1; }`,
    `ln -sfn -- ${cmd(`releases/${id}`)} current.new`,
    "mv -Tf -- current.new current",
    touchUsed(app, id),
  )];
}

/** Removes releases beyond the `keep` most recently used; the current one is always kept. As the app user. */
export function pruneCommands(app: string, keep: number): string[] {
  const p = appPaths(app);
  return [asAppScript(app,
    `cd ${cmd(p.releases)}`,
    `cur=$(basename -- "$(readlink ../current 2>/dev/null || echo none)")`,
    `kept=1`,
    // Newest use first; a release never used sorts by its folder's own time.
    "for d in $(for d in */; do d=${d%/}; echo \"$(stat -c %Y -- \"$d/.django-fleet-used\" 2>/dev/null || stat -c %Y -- \"$d\") $d\"; done | sort -rn | cut -d' ' -f2); do",
    `  [ "$d" = "$cur" ] && continue`,
    `  if [ "$kept" -lt ${cmd(keep)} ]; then kept=$((kept + 1)); else rm -rf -- "$d"; fi`,
    "done",
  )];
}

/**
 * Prints what `current` is: `missing`, `not-a-link`, or `link <target>` followed by a
 * line `resolves` or `dangling`. Root only reads the link itself (readlink, no -f: it
 * follows nothing in the app-owned tree); whether the target resolves is asked as the
 * app user, the one who runs from it, so root never follows a link the app can write.
 */
export function currentProbe(app: string): string {
  const c = cmd(appPaths(app).current);
  return script(
    `if ! l=$(readlink -- ${c}); then if [ -e ${c} ]; then echo not-a-link; else echo missing; fi; exit 0; fi 2>/dev/null`,
    // One line, whatever the link holds (a newline in it could not fake the next line).
    `l=\${l//$'\\n'/ }`,
    `echo "link \${l:0:300}"`,
    `if runuser -u ${cmd(app)} -- test -d ${cmd(`${appPaths(app).current}/`)} 2>/dev/null; then echo resolves; else echo dangling; fi`,
  );
}

/** What `current` is on a host (see {@link currentProbe}). */
export type CurrentLink =
  | { readonly kind: "release"; readonly id: string }
  | { readonly kind: "other"; readonly what: string };

const RELEASE_ID = /^[0-9a-f]{12}$/;

/**
 * Reads {@link currentProbe}'s output as the release `current` resolves to: a relative
 * `releases/<id>` or an absolute `/srv/<app>/releases/<id>` (also with `./` or a
 * trailing `/`) whose target exists. Anything else (another folder, a dangling target,
 * no link) is `other`, with a short description that previews show.
 */
export function parseCurrent(app: string, stdout: string): CurrentLink {
  const lines = stdout.replace(/\n$/, "").split("\n");
  if (lines[0] === "missing") return { kind: "other", what: "(no current link)" };
  if (lines[0] === "not-a-link") return { kind: "other", what: "(current is not a link)" };
  if (lines.length !== 2 || !lines[0]!.startsWith("link ") || !/^(resolves|dangling)$/.test(lines[1]!)) {
    throw new Error(`unexpected current-link probe output: ${JSON.stringify(stdout.trim())}`);
  }
  const target = lines[0]!.slice("link ".length);
  const dangling = lines[1] === "dangling";
  const root = appPaths(app).root;
  const abs = posix.normalize(target.startsWith("/") ? target : `${root}/${target}`).replace(/\/+$/, "");
  const prefix = `${appPaths(app).releases}/`;
  const id = abs.startsWith(prefix) ? abs.slice(prefix.length) : "";
  if (!dangling && RELEASE_ID.test(id)) return { kind: "release", id };
  return { kind: "other", what: `current -> ${target}${dangling ? " (dangling)" : ""}` };
}

/** The health check a node must pass. */
export interface HealthGate {
  /** The node's gunicorn unit. */
  readonly unit: string;
  /** URL on the node: its bind address, port and the check's path. */
  readonly url: string;
  /** Host header: an address the app's ALLOWED_HOSTS holds. */
  readonly hostHeader: string;
  /** The status expected. @default any 2xx or 3xx */
  readonly status?: number;
  /** Seconds before the node is given up on. */
  readonly timeoutSeconds: number;
}

/** Marker lines the gate prints on failure, so the provider can quote them. */
export const GATE_RESPONSE = "django-fleet-gate-response:";

/**
 * Polls the node until the check passes. It gives up at the timeout, or at once when the
 * unit failed or systemd had to restart it (an app that cannot import never answers),
 * printing the last response and the unit's journal.
 */
export function healthGateScript(g: HealthGate): string {
  const ok = g.status === undefined ? `[[ "$code" =~ ^[23][0-9][0-9]$ ]]` : `[ "$code" = ${cmd(g.status)} ]`;
  const u = cmd(g.unit);
  return script(
    `deadline=$((SECONDS + ${cmd(g.timeoutSeconds)}))`,
    `body=$(mktemp)`,
    `trap 'rm -f -- "$body"' EXIT`,
    "while :; do",
    `  code=$(curl -s -o "$body" -w '%{http_code}' --max-time 5 -H ${cmd(`Host: ${g.hostHeader}`)} -H 'X-Forwarded-Proto: https' -- ${cmd(g.url)} || true)`,
    `  if ${ok}; then echo "healthy: HTTP $code"; exit 0; fi`,
    `  dead=""; if systemctl is-failed --quiet ${u} || [ "$(systemctl show -p NRestarts --value ${u})" != 0 ]; then dead=1; fi`,
    `  if [ -n "$dead" ] || [ "$SECONDS" -ge "$deadline" ]; then`,
    `    if [ "$code" = 000 ]; then what="no answer"; else what="HTTP $code $(head -c 300 -- "$body" | tr -s '\\n\\t ' ' ')"; fi`,
    `    echo ${cmd(`${GATE_RESPONSE} GET ${g.url}:`)} "$what"`,
    `    journalctl -u ${u} -n 15 --no-pager -o cat || true`,
    "    exit 1",
    "  fi",
    "  sleep 0.5",
    "done",
  );
}

/**
 * Restarts the node's gunicorn onto whatever `current` points at, and onto its unit file
 * as now on disk (a changed unit file is rolled out here, gated, not by the service).
 * The listening socket is systemd's, so connections wait in its backlog meanwhile.
 */
export function restartCommands(unit: string): string[] {
  return ["systemctl daemon-reload", `systemctl restart ${cmd(unit)} || true`];
}

/** One node's line in an app's nginx site, and the site. */
export interface UpstreamRef {
  /** `/etc/nginx/sites-enabled/<app>.conf` on the load balancer. */
  readonly site: string;
  /** `address:port` as the site writes it (`[v6]:port` for IPv6). */
  readonly server: string;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The node's upstream line in the site, as an extended regex (group 1: the line before `;` or ` down;`). */
function upstreamLine(u: UpstreamRef): string {
  return `^([[:space:]]*server ${escapeRegex(u.server)} [^;]*[^;[:space:]])`;
}

/**
 * The lock every site edit on the load balancer takes, so two nodes' drains never
 * interleave. In root's own folder, not /run/lock (every user may write there).
 */
const NGINX_LOCK_DIR = "/run/django-fleet";
const NGINX_LOCK = `${NGINX_LOCK_DIR}/nginx.lock`;

/**
 * Takes the node out of the load balancer (`down` on its upstream line, then a graceful
 * nginx reload: requests in flight finish on the old workers) or puts it back. The last
 * node still serving is never taken out. Prints `drained`, `undrained` or why not.
 */
export function drainScript(u: UpstreamRef, out: boolean): string {
  const line = upstreamLine(u);
  return script(
    `install -d -m 0755 ${cmd(NGINX_LOCK_DIR)}`,
    `exec 9>${cmd(NGINX_LOCK)}`,
    "flock -w 120 9",
    `f=${cmd(u.site)}`,
    `if [ ! -f "$f" ] || ! grep -Eq ${cmd(`${line}( down)?;`)} "$f"; then echo "not in the load balancer"; exit 0; fi`,
    out
      ? [
        `if grep -Eq ${cmd(`${line} down;`)} "$f"; then echo drained; exit 0; fi`,
        // The others still in rotation: the last one serving stays in.
        `others=$(grep -E '^[[:space:]]*server [^;]* max_fails=[^;]*;' "$f" | grep -v ' down;' | grep -Ecv ${cmd(`${line};`)} || true)`,
        `if [ "$others" -lt 1 ]; then echo "the only node in rotation: not drained"; exit 0; fi`,
        `sed -i -E ${cmd(`s/${line};/\\1 down;/`)} "$f"`,
        "nginx -t -q && systemctl reload nginx",
        "echo drained",
      ].join("\n")
      : [
        `if ! grep -Eq ${cmd(`${line} down;`)} "$f"; then echo undrained; exit 0; fi`,
        `sed -i -E ${cmd(`s/${line} down;/\\1;/`)} "$f"`,
        "nginx -t -q && systemctl reload nginx",
        "echo undrained",
      ].join("\n"),
  );
}

/** Prints `down` when the node is out of the load balancer, else `up`. */
export function drainedProbe(u: UpstreamRef): string {
  const line = upstreamLine(u);
  return script(`if [ -f ${cmd(u.site)} ] && grep -Eq ${cmd(`${line} down;`)} ${cmd(u.site)}; then echo down; else echo up; fi`);
}

/**
 * Links folders of the checkout that must outlive a release (a STATIC_ROOT or MEDIA_ROOT
 * inside the project) to /srv/<app>/shared, so uploads are never lost and static files
 * of the previous release stay served while nodes switch. The first time, what the
 * pre-releases checkout held there is copied in.
 */
export function sharedLinksScript(app: string, commit: string, relPaths: readonly string[]): string {
  const p = appPaths(app);
  const r = releasePaths(app, commit);
  return script(asAppScript(app,
    `install -d -m 0755 -- ${cmd(p.shared)}`,
    ...relPaths.flatMap((rel) => {
      const shared = `${p.shared}/${rel}`;
      const inRelease = `${r.source}/${rel}`;
      const legacy = `${p.legacySource}/${rel}`;
      return [
        `if [ ! -d ${cmd(shared)} ]; then`,
        `  install -d -m 0755 -- ${cmd(shared)}`,
        `  if [ -d ${cmd(legacy)} ] && [ ! -L ${cmd(legacy)} ]; then cp -a -- ${cmd(`${legacy}/.`)} ${cmd(shared)}/; fi`,
        "fi",
        `if [ ! -L ${cmd(inRelease)} ]; then rm -rf -- ${cmd(inRelease)}; install -d -- "$(dirname -- ${cmd(inRelease)})"; ln -s -- ${cmd(shared)} ${cmd(inRelease)}; fi`,
      ];
    }),
  ));
}

/**
 * Where a path the settings name lives for good: a path inside the release's checkout
 * maps to its folder under /srv/<app>/shared (see sharedLinksScript); others are kept.
 */
export function sharedPathOf(app: string, commit: string, path: string): { path: string; rel?: string } {
  const src = `${releasePaths(app, commit).source}/`;
  if (!path.startsWith(src)) return { path };
  const rel = path.slice(src.length).replace(/\/+$/, "");
  if (rel === "" || rel.split("/").some((s) => s === ".." || s === ".")) return { path };
  return { path: `${appPaths(app).shared}/${rel}`, rel };
}
