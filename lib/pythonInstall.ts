/**
 * The commands that build an app's virtualenv from its lock or requirements file, and the
 * check that finds it broken. Pure builders: services/app/appRelease.ts runs them.
 *
 * uv and Poetry are installed by us, pinned, each in its own virtualenv under
 * /opt/django-fleet (from PyPI, like everything else Python). uv never downloads a Python:
 * it uses the host's python3, which the project's requires-python was checked against
 * before anything ran.
 */
import type { PythonProject } from "../config/pythonProject.ts";
import { cmd, script } from "./shell.ts";

/** Pinned tool versions (PyPI). */
export const UV_VERSION = "0.13.9";
export const POETRY_VERSION = "2.5.1";

export const TOOLS_DIR = "/opt/django-fleet";

export interface InstallPaths {
  /** App user (runs every install command). */
  readonly user: string;
  /** Its home, /srv/<app>. */
  readonly home: string;
  /** The checkout. */
  readonly source: string;
  /** The virtualenv. */
  readonly venv: string;
}

export interface InstallOptions {
  /** Dependency groups to install besides the main dependencies. @default [] */
  readonly groups: readonly string[];
  /** Extras of the project to install. @default [] */
  readonly extras: readonly string[];
}

/** Path of a pinned tool's executable. */
export function toolBin(tool: "uv" | "poetry"): string {
  return `${TOOLS_DIR}/${tool}-${tool === "uv" ? UV_VERSION : POETRY_VERSION}/bin/${tool}`;
}

/** Installs a pinned tool into its own virtualenv, unless that exact version is there; a half-made one is redone. */
function installTool(tool: "uv" | "poetry"): string[] {
  const version = tool === "uv" ? UV_VERSION : POETRY_VERSION;
  const dir = `${TOOLS_DIR}/${tool}-${version}`;
  return [
    `if ! ${cmd(`${dir}/bin/${tool}`)} --version 2>/dev/null | grep -qF -- ${cmd(version)}; then`,
    `  rm -rf -- ${cmd(dir)}`,
    // Root's Python from `/`, isolated (-I): the build calls this from inside the app's
    // checkout, and `python3 -m` puts the working directory first on sys.path, so a
    // venv.py the app user planted there would run as root.
    `  (cd / && python3 -I -m venv -- ${cmd(dir)})`,
    // Root installs without a cache: every cache on the host is an app's.
    `  (cd / && PIP_DISABLE_PIP_VERSION_CHECK=1 ${cmd(`${dir}/bin/pip`)} install --quiet --no-cache-dir --progress-bar off -- ${cmd(`${tool}==${version}`)})`,
    "fi",
  ];
}

/**
 * `runuser` as the app user with a clean, explicit environment: nothing of root's
 * (PYTHONPATH, PYTHONSTARTUP, ...) reaches a process that imports the app's code or venv.
 */
export function asApp(p: Pick<InstallPaths, "user" | "home">, env: Record<string, string> = {}): string {
  const vars = Object.entries({ HOME: p.home, PATH: "/usr/local/bin:/usr/bin:/bin", ...env }).map(([k, v]) => cmd(`${k}=${v}`));
  return `runuser -u ${cmd(p.user)} -- env -i ${vars.join(" ")}`;
}

/**
 * Runs `lines` as one bash script as the app user (clean environment). Used for all work
 * inside the app's own tree: the app user can replace any folder there with a link, which
 * a root process would follow out of it; the app user following it reaches only what it
 * could reach anyway.
 */
export function appScript(p: Pick<InstallPaths, "user" | "home">, ...lines: string[]): string {
  return `${asApp(p)} bash -euo pipefail -c ${cmd(lines.join("\n"))}`;
}

/**
 * The app's own download cache for a tool, in its home: a cache shared by every app (as
 * pip's, uv's and Poetry's were, 1777 under /var/cache) lets one app plant a package that
 * another app's next install runs.
 */
export function cacheDir(p: Pick<InstallPaths, "home">, tool: "pip" | "uv" | "pypoetry"): string {
  return `${p.home}/.cache/${tool}`;
}

function uvEnv(p: InstallPaths): Record<string, string> {
  return {
    UV_CACHE_DIR: cacheDir(p, "uv"), UV_PYTHON_DOWNLOADS: "never", UV_PYTHON: "/usr/bin/python3",
    UV_PROJECT_ENVIRONMENT: p.venv, UV_LINK_MODE: "copy", UV_NO_PROGRESS: "1",
    // The host's CA store, as pip uses it: a server behind a TLS-inspecting proxy trusts
    // that proxy there, not in uv's built-in roots.
    UV_SYSTEM_CERTS: "1",
  };
}

function uvSyncArgs(o: InstallOptions): string[] {
  return ["sync", "--frozen", "--no-dev", ...o.groups.flatMap((g) => ["--group", g]), ...o.extras.flatMap((e) => ["--extra", e])];
}

/** An empty file per tool that made the virtualenv; one made by another tool (uv keeps no pip) is rebuilt. */
export function methodMarker(venv: string, method: PythonProject["method"]): string {
  return `${venv}/.django-fleet-made-by-${method}`;
}

/** Removes a virtualenv another tool made (no marker at all: an older one, made with pip). As the app user. */
function sameMethodVenv(project: PythonProject, p: InstallPaths): string {
  const v = cmd(p.venv);
  if (project.method === "pip") {
    return appScript(p, `if [ -e ${cmd(methodMarker(p.venv, "uv"))} ] || [ -e ${cmd(methodMarker(p.venv, "poetry"))} ]; then rm -rf -- ${v}; fi`);
  }
  return appScript(p, `if [ -d ${v} ] && [ ! -e ${cmd(methodMarker(p.venv, project.method))} ]; then rm -rf -- ${v}; fi`);
}

function recordMethod(project: PythonProject, p: InstallPaths): string {
  return `${asApp(p)} install -m 0644 /dev/null ${cmd(methodMarker(p.venv, project.method))}`;
}

/** The script that brings the virtualenv to exactly what the project declares. Idempotent. */
export function installScript(project: PythonProject, p: InstallPaths, o: InstallOptions): string {
  const shared = [`install -d -m 0755 ${TOOLS_DIR}`, sameMethodVenv(project, p)];
  if (project.method === "uv") {
    return script(
      ...shared, ...installTool("uv"), `cd ${cmd(p.source)}`,
      `${asApp(p, uvEnv(p))} ${cmd(toolBin("uv"), ...uvSyncArgs(o))}`,
      recordMethod(project, p),
    );
  }
  if (project.method === "poetry") {
    const only = ["main", ...o.groups].join(",");
    return script(
      ...shared, ...installTool("poetry"), `cd ${cmd(p.source)}`,
      `[ -x ${cmd(`${p.venv}/bin/python`)} ] || ${asApp(p, {})} python3 -m venv -- ${cmd(p.venv)}`,
      // Poetry installs into the virtualenv named by VIRTUAL_ENV.
      `${asApp(p, { VIRTUAL_ENV: p.venv, POETRY_CACHE_DIR: cacheDir(p, "pypoetry"), POETRY_VIRTUALENVS_CREATE: "false", POETRY_NO_INTERACTION: "1", REQUESTS_CA_BUNDLE: "/etc/ssl/certs/ca-certificates.crt" })} ${cmd(toolBin("poetry"), "sync", "--no-ansi", "--no-root", "--only", only, ...(o.extras.length ? ["--extras", o.extras.join(" ")] : []))}`,
      recordMethod(project, p),
    );
  }
  return script(
    ...shared, `cd ${cmd(p.source)}`,
    `[ -x ${cmd(`${p.venv}/bin/python`)} ] || ${asApp(p, {})} python3 -m venv -- ${cmd(p.venv)}`,
    `${asApp(p, { PIP_CACHE_DIR: cacheDir(p, "pip"), PIP_DISABLE_PIP_VERSION_CHECK: "1" })} ${cmd(`${p.venv}/bin/pip`, "install", "--quiet", "--progress-bar", "off", ...(project.requireHashes ? ["--require-hashes"] : []), "-r", project.requirementsFile!)}`,
    recordMethod(project, p),
  );
}

/** Exits 0 while the virtualenv's installed packages are consistent (refresh finds a broken one). */
export function checkScript(project: PythonProject, p: InstallPaths): string {
  const python = `${p.venv}/bin/python`;
  if (project.method === "uv") {
    // uv keeps no pip in the environments it makes; it checks them itself.
    // From the project folder: uv reads uv.toml in the working directory (root's is unreadable).
    return script(`cd ${cmd(p.source)}`, `${asApp(p, uvEnv(p))} ${cmd(toolBin("uv"), "pip", "check", "--quiet", "--python", python)} >/dev/null`);
  }
  // As the app user, from its own checkout: the virtualenv is the app's, and a .pth file
  // in its site-packages runs when its Python starts.
  return script(`cd ${cmd(p.source)}`, `${asApp(p, { PIP_DISABLE_PIP_VERSION_CHECK: "1", PIP_NO_CACHE_DIR: "1" })} ${cmd(python)} -m pip check >/dev/null`);
}
