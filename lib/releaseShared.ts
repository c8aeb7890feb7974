/** The folders of a project that outlive its releases (uploads, static files), under /srv/<app>/shared. */
import { appPaths, releasePaths } from "../components/paths.ts";
import { asAppScript } from "./releaseAsApp.ts";
import { cmd, script } from "./shell.ts";

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
