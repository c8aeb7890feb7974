/**
 * AppRelease: the app's code on one host, for every role that runs it (app, worker,
 * beat, and the load balancer, which serves the collected static files): the system
 * user and directory layout, the git checkout at the deployed commit, the virtualenv
 * with the app's requirements, the 0600 env file, and collectstatic.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppConfig } from "../config/schema.ts";
import { shortHash } from "../lib/hash.ts";
import { cmd, script } from "../lib/shell.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { RemoteScript } from "../providers/remoteScript.ts";
import type { Host } from "./host.ts";
import { appPaths } from "./paths.ts";

export { appPaths };

/**
 * Runs a manage.py command as the app user with exactly the service's environment
 * (systemd parses the env file the same way it does for gunicorn and Celery).
 */
export function manageCommand(app: AppConfig, args: string): string {
  const p = appPaths(app.name);
  return [
    "systemd-run --quiet --wait --pipe --collect",
    `-p User=${cmd(app.name)} -p Group=${cmd(app.name)}`,
    `-p EnvironmentFile=${cmd(p.envFile)} -p WorkingDirectory=${cmd(p.source)}`,
    `${cmd(`${p.venv}/bin/python`)} manage.py ${args}`,
  ].join(" ");
}

export interface AppReleaseArgs {
  /** The host. */
  readonly host: Host;
  /** The app config. */
  readonly app: AppConfig;
  /** The commit to deploy (resolved from app.ref). */
  readonly commit: string;
  /** Rendered env file content (secret). */
  readonly envFileContent: pulumi.Output<string>;
}

export class AppRelease extends pulumi.ComponentResource {
  /** The deployed commit. */
  public readonly commit: string;
  /** Hash of the env file, for restart triggers. */
  public readonly envHash: pulumi.Output<string>;
  /** Resources that must exist before the app runs on this host. */
  public readonly ready: pulumi.Resource[];

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
        `id -u ${user} >/dev/null 2>&1 || useradd --system --user-group --home-dir ${cmd(p.root)} --shell /usr/sbin/nologin ${user}`,
        `install -d -o ${user} -g ${user} -m 0755 ${cmd(p.root)} ${cmd(p.log)} ${cmd(`${p.root}/public`)} ${cmd(p.static)} ${cmd(p.media)} ${cmd(p.state)}`,
        `install -d -o root -g root -m 0700 ${cmd(p.ssl)}`,
        // One pip cache per host for all apps, so a re-created virtualenv reinstalls fast.
        "install -d -m 1777 /var/cache/pip",
      ),
      check: script(`id -u ${user} >/dev/null`, `test -d ${cmd(p.static)} -a -d ${cmd(p.media)} -a -d ${cmd(p.state)}`),
      triggers: { layout: "1" },
    }, { parent: this, dependsOn: h.ready });

    const checkout = new RemoteScript(`${name}-checkout`, {
      connection: h.connection,
      description: `git checkout ${app.repo} at ${args.commit.slice(0, 12)}`,
      create: script(
        `cd ${cmd(p.root)}`,
        `if [ ! -d source/.git ]; then ${asApp} git clone --quiet --no-checkout ${cmd(app.repo)} source; fi`,
        "cd source",
        `${asApp} git remote set-url origin ${cmd(app.repo)}`,
        `${asApp} git fetch --quiet --tags --force origin '+refs/heads/*:refs/remotes/origin/*'`,
        `${asApp} git checkout --quiet --force --detach ${cmd(args.commit)}`,
        `${asApp} git clean -q -fdx -e '*.pyc'`,
      ),
      // Drift: another commit checked out, or files in the checkout edited by hand.
      check: script(
        `cd ${cmd(p.source)}`,
        `[ "$(${asApp} git rev-parse HEAD)" = ${cmd(args.commit)} ]`,
        `[ -z "$(${asApp} git status --porcelain --untracked-files=no)" ]`,
      ),
      triggers: { repo: app.repo, commit: args.commit },
    }, { parent: this, dependsOn: [layout] });

    const venv = new RemoteScript(`${name}-virtualenv`, {
      connection: h.connection,
      description: `virtualenv with ${app.requirementsFile}`,
      create: script(
        `cd ${cmd(p.root)}`,
        `[ -x venv/bin/python ] || ${asApp} python3 -m venv venv`,
        `${asApp} env PIP_CACHE_DIR=/var/cache/pip PIP_DISABLE_PIP_VERSION_CHECK=1 venv/bin/pip install --quiet --progress-bar off -r ${cmd(`source/${app.requirementsFile}`)}`,
      ),
      check: script(`${cmd(`${p.venv}/bin/python`)} -m pip check >/dev/null`),
      triggers: { commit: args.commit, requirements: app.requirementsFile },
    }, { parent: this, dependsOn: [checkout] });

    const envFile = new RemoteFile(`${name}-env`, {
      connection: h.connection, path: p.envFile, content: args.envFileContent,
      mode: "0600", secret: true,
    }, { parent: this, dependsOn: [layout] });
    this.envHash = pulumi.unsecret(args.envFileContent.apply(shortHash));

    const collectstatic = new RemoteScript(`${name}-collectstatic`, {
      connection: h.connection,
      description: "manage.py collectstatic",
      create: script(manageCommand(app, "collectstatic --noinput -v 0")),
      check: script(`[ -n "$(ls -A ${cmd(p.static)})" ]`),
      triggers: { commit: args.commit, env: this.envHash },
    }, { parent: this, dependsOn: [venv, envFile] });

    this.commit = args.commit;
    this.ready = [venv, envFile, collectstatic];
    this.registerOutputs({});
  }
}
