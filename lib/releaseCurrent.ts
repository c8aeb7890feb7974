/**
 * The `current` link of an app's releases, as pure builders: point it at a built
 * release, restart onto it, keep the last few releases, and read what it points at.
 * The provider (providers/releaseSwitch.ops.ts) and services/app/appRelease.ts run them.
 */
import { posix } from "node:path";
import { appPaths, releaseId, releasePaths } from "../components/paths.ts";
import { asAppScript } from "./releaseAsApp.ts";
import { cmd, script } from "./shell.ts";

/** Where the used-marker lives: touched at each switch, so pruning keeps the most recently run releases. */
function usedMarker(app: string, id: string): string {
  return `${appPaths(app).releases}/${id}/.django-fleet-used`;
}

/** Marks a release used now (a marker root made before is replaced: the app user cannot touch it). */
export function touchUsed(app: string, id: string): string {
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

/**
 * Restarts the node's gunicorn onto whatever `current` points at, and onto its unit file
 * as now on disk (a changed unit file is rolled out here, gated, not by the service).
 * The listening socket is systemd's, so connections wait in its backlog meanwhile.
 */
export function restartCommands(unit: string): string[] {
  return ["systemctl daemon-reload", `systemctl restart ${cmd(unit)} || true`];
}
