/**
 * Building a release beside the running one, as pure builders: the build script (git
 * fetch and checkout, the virtualenv seeded from the running release, the install), and
 * the check refresh runs to find a deleted or edited release.
 */
import type { PythonProject } from "../config/pythonProject.ts";
import { appPaths, releaseId, releasePaths } from "../components/paths.ts";
import { checkScript, installScript, type InstallOptions } from "./pythonInstall.ts";
import { asAppScript, asUser } from "./releaseAsApp.ts";
import { touchUsed } from "./releaseCurrent.ts";
import { credentialFile, hostGitOptions } from "./gitCredential.ts";
import { cmd, script } from "./shell.ts";

/** Prefix of the line a build prints when the release was built before (a rollback costs no git or pip). */
export const ALREADY_BUILT = "django-fleet: release already built:";

export interface BuildArgs {
  readonly app: string;
  readonly repo: string;
  readonly commit: string;
  readonly project: PythonProject;
  readonly install: InstallOptions;
  /** git fetches with the app's repository token (its credential file, lib/gitCredential.ts). @default false */
  readonly repoToken?: boolean;
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
  // The fetches from the remote, as the app user; with a token, through its helper and never a prompt.
  const fetch = a.repoToken
    ? `${u} env GIT_TERMINAL_PROMPT=0 git ${cmd(...hostGitOptions(credentialFile(a.app)))} -C ${cmd(p.repo)} fetch --quiet`
    : `${u} git -C ${cmd(p.repo)} fetch --quiet`;
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
    `${fetch} --tags --force -- ${cmd(a.repo)} '+refs/heads/*:refs/heads/*'`,
    // A commit in no branch or tag (a pull request's head) is fetched by its id.
    `${u} git -C ${cmd(p.repo)} cat-file -e ${cmd(`${a.commit}^{commit}`)} 2>/dev/null || ${fetch} -- ${cmd(a.repo)} ${cmd(a.commit)}`,
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
