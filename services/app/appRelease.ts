/**
 * AppRelease: the app's code on one host, for every role that runs it (app, worker,
 * beat; a load balancer of its own gets only a copy of the static files): the system
 * user and directory layout, the release of the deployed commit built in its own folder
 * (/srv/<app>/releases/<commit12>: checkout and virtualenv) beside the running one, the
 * 0600 env file, where the project's settings put static and media files, and
 * collectstatic. Which release runs is the `current` link, moved by ReleaseSwitch on an
 * app node (health-gated) or by `activate` elsewhere.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PythonProject } from "../../config/pythonProject.ts";
import type { AppConfig } from "../../config/schema.ts";
import type { AppPlan } from "../../config/apps.ts";
import { repoCredential } from "../../config/repoToken.ts";
import { credentialFile as gitCredentialFile, renderCredentialFile } from "../../lib/gitCredential.ts";
import { SETTINGS_PROBE_PY, type DjangoPaths } from "../../lib/djangoSettings.ts";
import { shortHash } from "../../lib/hash.ts";
import { buildCheck, buildScript } from "../../lib/releaseBuild.ts";
import { linkCommands, pruneCommands } from "../../lib/releaseCurrent.ts";
import { sharedLinksScript, sharedPathOf } from "../../lib/releaseShared.ts";
import { cmd, script } from "../../lib/shell.ts";
import type { RemoteFile } from "../../providers/remoteFile.ts";
import type { RemoteScript } from "../../providers/remoteScript.ts";
import type { Host } from "../../components/host.ts";
import { appPaths, releaseId, releasePaths } from "../../components/paths.ts";
import { layoutCheck, layoutRead, layoutScript, layoutState } from "./appLayout.ts";

export { appPaths };

/** The code a command runs: a release's checkout and virtualenv (default: the running one, `current`). */
export interface CodePaths {
  readonly source: string;
  readonly venv: string;
}

/**
 * Runs a manage.py command as the app user with exactly the service's environment
 * (systemd parses the env file the same way it does for gunicorn and Celery), in the
 * release `code` (default: the running one).
 */
export function manageCommand(app: Pick<AppConfig, "name">, args: string, code?: CodePaths): string {
  return asService(app, `manage.py ${args}`, code);
}

/** Runs the app's Python with `pythonArgs` (already quoted) as the service would. */
function asService(app: Pick<AppConfig, "name">, pythonArgs: string, code?: CodePaths): string {
  const p = appPaths(app.name);
  const c = code ?? p;
  return [
    "systemd-run --quiet --wait --pipe --collect",
    `-p User=${cmd(app.name)} -p Group=${cmd(app.name)}`,
    `-p EnvironmentFile=${cmd(p.envFile)} -p WorkingDirectory=${cmd(c.source)}`,
    `${cmd(`${c.venv}/bin/python`)} ${pythonArgs}`,
  ].join(" ");
}

/** The settings probe: prints `FLEET_FACT=` with the project's static and media settings. */
export function settingsProbe(app: Pick<AppConfig, "name">, code?: CodePaths): string {
  return script(asService(app, `-c ${cmd(SETTINGS_PROBE_PY)}`, code));
}

/** collectstatic into the project's STATIC_ROOT; nothing when staticfiles is not installed. */
export function collectstaticScripts(app: Pick<AppConfig, "name">, s: DjangoPaths, code?: CodePaths): { create: string; check: string } {
  if (!s.staticfiles) return { create: script("true"), check: script("true") };
  return {
    create: script(manageCommand(app, "collectstatic --noinput -v 0", code)),
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
  /** Its release id (first 12 characters), as previews show it. */
  public readonly releaseId: string;
  /** Hash of the env file, for restart triggers. */
  public readonly envHash: pulumi.Output<string>;
  /** The env file (its write stamp restarts the Celery units that read it). */
  public readonly envFile: RemoteFile;
  /** Resources that must exist before the release can run on this host (built, env file, static files). */
  public readonly ready: pulumi.Resource[];
  /** Where the project's settings put static and media files, read on this host (folders inside the checkout mapped to /srv/<app>/shared). */
  public readonly settings: pulumi.Output<DjangoPaths>;
  /** The release's own checkout and virtualenv (for migrate, before any node runs it). */
  public readonly code: CodePaths;
  private readonly host: Host;
  private readonly app: AppPlan;
  private readonly resourceName: string;

  constructor(name: string, args: AppReleaseArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:AppRelease", name, {}, opts);
    const { host: h, app } = args;
    const p = appPaths(app.name);
    const r = releasePaths(app.name, args.commit);
    this.host = h;
    this.app = app;
    this.resourceName = name;
    this.commit = args.commit;
    this.releaseId = releaseId(args.commit);
    this.code = { source: r.source, venv: r.venv };

    const layout = h.script(`${name}-layout`, {
      description: `user and directories for ${app.name}`,
      create: layoutScript(app.name),
      check: layoutCheck(app.name),
      // What drifted, line by line: the user's home or shell, a folder's mode or owner, nginx's group.
      read: layoutRead(app.name),
      state: layoutState(app.name),
      triggers: { layout: "4" },
    }, { parent: this });

    // The release is built in its own folder while the running one keeps serving.
    const project = args.project;
    const credential = repoCredential(app);
    // The repository token, for the app user's git alone: 0600 in root's /etc/<app>.
    const credentialFile = credential && h.file(`${name}-git-credential`, {
      path: gitCredentialFile(app.name), content: pulumi.secret(renderCredentialFile(credential)),
      mode: "0600", owner: app.name, group: app.name, secret: true,
    }, { parent: this, dependsOn: [layout] });
    const buildArgs = { app: app.name, repo: app.repo, commit: args.commit, project, install: app.install, repoToken: !!credential };
    const build = h.script(`${name}-build`, {
      description: `release ${this.releaseId} of ${app.name}: git ${app.repo} and a virtualenv with ${project.method} (${project.reason})`,
      create: buildScript(buildArgs),
      // Drift: the release deleted, its checkout edited, its virtualenv broken.
      check: buildCheck(buildArgs),
      triggers: { release: this.releaseId, method: project.method, ...(project.requirementsFile ? { requirements: project.requirementsFile } : {}) },
    }, { parent: this, dependsOn: [layout, ...(credentialFile ? [credentialFile] : [])] });

    const envFile = this.envFile = h.file(`${name}-env`, {
      path: p.envFile, content: args.envFileContent,
      mode: "0600", secret: true,
    }, { parent: this, dependsOn: [layout] });
    this.envHash = pulumi.unsecret(args.envFileContent.apply(shortHash));

    // Read after every new release or env file: the settings may read the environment.
    const probe = h.probe<DjangoPaths>(`${name}-settings`, {
      description: `${app.settingsModule} STATIC_ROOT, MEDIA_ROOT`,
      probe: settingsProbe(app, this.code),
      triggers: { commit: args.commit, env: this.envHash },
    }, { parent: this, dependsOn: [build, envFile] });

    // STATIC_ROOT or MEDIA_ROOT inside the checkout: linked to a folder every release shares.
    const mapped = probe.value.apply((s) => {
      const st = s.staticRoot ? sharedPathOf(app.name, args.commit, s.staticRoot) : undefined;
      const me = s.mediaRoot ? sharedPathOf(app.name, args.commit, s.mediaRoot) : undefined;
      const rels = [st?.rel, me?.rel].filter((x): x is string => !!x);
      return { settings: { ...s, staticRoot: st?.path ?? s.staticRoot, mediaRoot: me?.path ?? s.mediaRoot }, rels: [...new Set(rels)] };
    });
    this.settings = mapped.apply((m) => m.settings);
    const links = h.script(`${name}-shared`, {
      description: `link STATIC_ROOT and MEDIA_ROOT inside ${app.name}'s checkout to /srv/${app.name}/shared`,
      create: mapped.apply((m) => sharedLinksScript(app.name, args.commit, m.rels)),
      triggers: { release: this.releaseId, folders: mapped.apply((m) => m.rels.join(" ")) },
    }, { parent: this, dependsOn: [probe] });

    const collect = this.settings.apply((s) => collectstaticScripts(app, s, this.code));
    const collectstatic = h.script(`${name}-collectstatic`, {
      description: `manage.py collectstatic of ${app.name}`,
      create: collect.create,
      check: collect.check,
      triggers: { commit: args.commit, env: this.envHash },
    }, { parent: this, dependsOn: [build, envFile, probe, links] });

    this.ready = [build, envFile, links, collectstatic];
    this.registerOutputs({});
  }

  /**
   * Points `current` at this release on a host where no health-gated app node does it
   * (a worker host), after `after`; keeps `keep` releases.
   */
  public activate(after: pulumi.Resource[], keep: number): RemoteScript {
    const app = this.app.name;
    return this.host.script(`${this.resourceName}-activate`, {
      description: `switch ${app} to release ${this.releaseId}`,
      create: script(...linkCommands(app, this.commit), ...pruneCommands(app, keep)),
      // Drift: `current` switched by hand.
      check: script(`[ "$(readlink -- ${cmd(appPaths(app).current)})" = ${cmd(`releases/${this.releaseId}`)} ]`),
      triggers: { release: this.releaseId, keep: String(keep) },
    }, { parent: this, dependsOn: [...this.ready, ...after] });
  }
}
