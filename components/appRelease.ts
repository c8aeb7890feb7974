/**
 * AppRelease: the app's code on one host, for every role that runs it (app, worker,
 * beat, and the load balancer, which serves the collected static files): the system
 * user and directory layout, the git checkout at the deployed commit, the virtualenv
 * built the way the project declares its dependencies, the 0600 env file, where the
 * project's settings put static and media files, and collectstatic into that place.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PythonProject } from "../config/pythonProject.ts";
import type { AppConfig } from "../config/schema.ts";
import type { AppPlan } from "../config/apps.ts";
import { SETTINGS_PROBE_PY, type DjangoPaths } from "../lib/djangoSettings.ts";
import { shortHash } from "../lib/hash.ts";
import { checkScript, installScript } from "../lib/pythonInstall.ts";
import { cmd, script } from "../lib/shell.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { RemoteProbe } from "../providers/remoteProbe.ts";
import { RemoteScript } from "../providers/remoteScript.ts";
import type { Host } from "./host.ts";
import { appPaths } from "./paths.ts";

export { appPaths };

/**
 * Runs a manage.py command as the app user with exactly the service's environment
 * (systemd parses the env file the same way it does for gunicorn and Celery).
 */
export function manageCommand(app: Pick<AppConfig, "name">, args: string): string {
  return asService(app, `manage.py ${args}`);
}

/** Runs the app's Python with `pythonArgs` (already quoted) as the service would. */
function asService(app: Pick<AppConfig, "name">, pythonArgs: string): string {
  const p = appPaths(app.name);
  return [
    "systemd-run --quiet --wait --pipe --collect",
    `-p User=${cmd(app.name)} -p Group=${cmd(app.name)}`,
    `-p EnvironmentFile=${cmd(p.envFile)} -p WorkingDirectory=${cmd(p.source)}`,
    `${cmd(`${p.venv}/bin/python`)} ${pythonArgs}`,
  ].join(" ");
}

/** The settings probe: prints `FLEET_FACT=` with the project's static and media settings. */
export function settingsProbe(app: Pick<AppConfig, "name">): string {
  return script(asService(app, `-c ${cmd(SETTINGS_PROBE_PY)}`));
}

/** collectstatic into the project's STATIC_ROOT; nothing when staticfiles is not installed. */
export function collectstaticScripts(app: Pick<AppConfig, "name">, s: DjangoPaths): { create: string; check: string } {
  if (!s.staticfiles) return { create: script("true"), check: script("true") };
  return {
    create: script(manageCommand(app, "collectstatic --noinput -v 0")),
    // Drift: the collected files are gone (a wiped folder, a rebuilt host).
    check: script(`[ -n "$(ls -A -- ${cmd(s.staticRoot ?? "/nonexistent")} 2>/dev/null)" ]`),
  };
}

export interface AppReleaseArgs {
  /** The host. */
  readonly host: Host;
  /** The app config. */
  readonly app: AppPlan;
  /** The commit to deploy (resolved from app.ref). */
  readonly commit: string;
  /** Rendered env file content (secret). */
  readonly envFileContent: pulumi.Output<string>;
  /** How the project installs its dependencies (read from the repository at `commit`). */
  readonly project: PythonProject;
}

export class AppRelease extends pulumi.ComponentResource {
  /** The deployed commit. */
  public readonly commit: string;
  /** Hash of the env file, for restart triggers. */
  public readonly envHash: pulumi.Output<string>;
  /** Resources that must exist before the app runs on this host. */
  public readonly ready: pulumi.Resource[];
  /** Where the project's settings put static and media files, read on this host. */
  public readonly settings: pulumi.Output<DjangoPaths>;

  constructor(name: string, args: AppReleaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:AppRelease", name, {}, opts);
    const { host: h, app } = args;
    const p = appPaths(app.name);
    const user = cmd(app.name);
    const asApp = `runuser -u ${user} --`;

    const layout = new RemoteScript(`${name}-layout`, {
      connection: h.connection,
      description: `user and directories for ${app.name}`,
      create: script(
        // An account that exists with another home is not ours: never run the app as it.
        `if id -u ${user} >/dev/null 2>&1; then`,
        `  home=$(getent passwd ${user} | cut -d: -f6)`,
        `  if [ "$home" != ${cmd(p.root)} ]; then echo "the account "${user}" exists already (home $home) and was not made by django-fleet; choose another app.name" >&2; exit 3; fi`,
        `else`,
        `  useradd --system --user-group --home-dir ${cmd(p.root)} --shell /usr/sbin/nologin -- ${user}`,
        "fi",
        // The app's tree is its own: other apps' users cannot enter it (0750); nginx
        // (www-data, in the app's group) can, to serve the static and media files.
        `install -d -o ${user} -g ${user} -m 0750 ${cmd(p.root)} ${cmd(p.state)}`,
        `chmod 0750 ${cmd(p.root)} ${cmd(p.state)}`,
        `install -d -o ${user} -g ${user} -m 0755 ${cmd(p.log)} ${cmd(`${p.root}/public`)} ${cmd(p.static)} ${cmd(p.media)}`,
        `usermod -a -G ${user} www-data`,
        `install -d -o root -g root -m 0700 ${cmd(p.ssl)}`,
        // One pip cache per host for all apps, so a re-created virtualenv reinstalls fast.
        "install -d -m 1777 /var/cache/pip",
      ),
      check: script(
        `id -u ${user} >/dev/null`, `test -d ${cmd(p.static)} -a -d ${cmd(p.media)} -a -d ${cmd(p.state)}`,
        `[ "$(stat -c %a ${cmd(p.root)})" = 750 ]`,
        `id -nG www-data | tr ' ' '\\n' | grep -x ${user} >/dev/null`,
      ),
      triggers: { layout: "2" },
    }, { parent: this, dependsOn: h.ready });

    const checkout = new RemoteScript(`${name}-checkout`, {
      connection: h.connection,
      description: `git checkout ${app.repo} at ${args.commit.slice(0, 12)}`,
      create: script(
        `cd ${cmd(p.root)}`,
        `if [ ! -d source/.git ]; then ${asApp} git clone --quiet --no-checkout -- ${cmd(app.repo)} source; fi`,
        "cd source",
        `${asApp} git remote set-url -- origin ${cmd(app.repo)}`,
        `${asApp} git fetch --quiet --tags --force origin '+refs/heads/*:refs/remotes/origin/*'`,
        // A commit in no branch or tag (a pull request's head) is fetched by its id.
        `${asApp} git cat-file -e ${cmd(`${args.commit}^{commit}`)} 2>/dev/null || ${asApp} git fetch --quiet origin ${cmd(args.commit)}`,
        `${asApp} git checkout --quiet --force --detach ${cmd(args.commit)} --`,
        // No `git clean`: files the app wrote inside its tree (MEDIA_ROOT = BASE_DIR / "media",
        // ignored in git or not) are data; the checkout itself removes files a commit dropped.
      ),
      // Drift: another commit checked out, or files in the checkout edited by hand.
      check: script(
        `cd ${cmd(p.source)}`,
        `[ "$(${asApp} git rev-parse HEAD)" = ${cmd(args.commit)} ]`,
        `[ -z "$(${asApp} git status --porcelain --untracked-files=no)" ]`,
      ),
      triggers: { repo: app.repo, commit: args.commit },
    }, { parent: this, dependsOn: [layout] });

    const project = args.project;
    const installPaths = { user: app.name, home: p.root, source: p.source, venv: p.venv };
    const venv = new RemoteScript(`${name}-virtualenv`, {
      connection: h.connection,
      description: `virtualenv with ${project.method} (${project.reason})`,
      create: installScript(project, installPaths, app.install),
      check: checkScript(project, installPaths),
      triggers: { commit: args.commit, method: project.method, ...(project.requirementsFile ? { requirements: project.requirementsFile } : {}) },
    }, { parent: this, dependsOn: [checkout] });

    const envFile = new RemoteFile(`${name}-env`, {
      connection: h.connection, path: p.envFile, content: args.envFileContent,
      mode: "0600", secret: true,
    }, { parent: this, dependsOn: [layout] });
    this.envHash = pulumi.unsecret(args.envFileContent.apply(shortHash));

    // Read after every new release or env file: the settings may read the environment.
    const probe = new RemoteProbe<DjangoPaths>(`${name}-settings`, {
      connection: h.connection,
      description: `${app.settingsModule} STATIC_ROOT, MEDIA_ROOT`,
      probe: settingsProbe(app),
      triggers: { commit: args.commit, env: this.envHash },
    }, { parent: this, dependsOn: [venv, envFile] });
    this.settings = probe.value;
    const collect = probe.value.apply((s) => collectstaticScripts(app, s));

    const collectstatic = new RemoteScript(`${name}-collectstatic`, {
      connection: h.connection,
      description: "manage.py collectstatic",
      create: collect.create,
      check: collect.check,
      triggers: { commit: args.commit, env: this.envHash },
    }, { parent: this, dependsOn: [venv, envFile, probe] });

    this.commit = args.commit;
    this.ready = [venv, envFile, collectstatic];
    this.registerOutputs({});
  }
}
