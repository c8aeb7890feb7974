/**
 * The app's code where it runs (components/djangoApp.ts, AppRelease): its user and
 * folders, the release, the env file, collectstatic and migrate, then gunicorn and the
 * health gate that switches onto the release.
 */
import { appEnvironment } from "../../../config/environment.ts";
import { addressFrom } from "../../../config/topology.ts";
import { appPaths, releaseId } from "../../../components/paths.ts";
import { healthGateScript } from "../../../lib/healthGate.ts";
import { cacheDir } from "../../../lib/pythonInstall.ts";
import { buildCheck, buildScript } from "../../../lib/releaseBuild.ts";
import { unitFilePath } from "../../../plan/files.ts";
import type { HostApp } from "../../../plan/fleetPlan.ts";
import { appLayout } from "../../../services/app/appLayout.ts";
import { collectstaticScripts, manageCommand } from "../../../services/app/appRelease.ts";
import { renderEnvFile } from "../../../services/app/envFile.ts";
import { renderGunicornConf } from "../../../services/app/gunicornConf.ts";
import { renderGunicornSocket, renderGunicornUnit } from "../../../services/app/systemdUnits.ts";
import type { UserStep } from "../types.ts";
import { file, service, type HostContext } from "./context.ts";

/** The env file's variables on this host (every host's stack holds them, as the program computes them for each). */
export function appEnv({ plan, cfg, topo, app, media, secrets: s }: HostContext): Record<string, string> {
  return appEnvironment(cfg, {
    secretKey: s.djangoSecretKey, dbPassword: s.dbPassword, brokerPassword: s.brokerPassword,
    dbHost: addressFrom(plan, topo.db), brokerHost: addressFrom(plan, topo.broker),
    cacheHost: undefined, cachePassword: "",
    dbName: app.database.name, dbUser: app.database.user,
    ownAddresses: [plan.address, plan.privateAddress], media,
    loadBalancerAddresses: topo.loadBalancer ? [topo.loadBalancer.address, topo.loadBalancer.privateAddress] : [],
  }, app);
}

/** The app's layout (services/app/appLayout.ts, made by AppRelease's `layout` script): user, folders, modes. */
function layout(app: string): UserStep {
  const l = appLayout(app);
  return {
    kind: "user", id: "user", user: l.user, group: l.user, home: l.home, shell: l.shell,
    dirs: [...l.rootMade, ...l.userMade],
    // Root's folders get their mode set again even when they exist.
    chmod: l.rootMade.map((f) => ({ path: f.path, mode: f.mode })),
  };
}

/** Renders the app's release on a host that runs its code, and gunicorn where it serves; returns the env file's id. */
export function renderApp(h: HostContext, here: HostApp, env: Readonly<Record<string, string>>): string {
  const { plan, app, commit, project, settings, code, paths: p, release: r, add, at } = h;
  // The app's code, env file and static files (components/djangoApp.ts, AppRelease).
  const envFile = add(file("env", p.envFile, renderEnvFile(env), { mode: "0600", secret: true }));
  const buildArgs = { app: app.name, repo: app.repo, commit, project, install: app.install };
  const collect = collectstaticScripts(app, settings, code);
  at("build", layout(app.name), {
    kind: "release", id: "release", releaseId: releaseId(commit), user: app.name,
    checkout: { repo: app.repo, commit, mirror: p.repo, dir: r.dir, source: r.source },
    virtualenv: {
      venv: r.venv, method: project.method, requireHashes: project.requireHashes, pipCache: cacheDir({ home: appPaths(app.name).root }, "pip"),
      ...(project.requirementsFile ? { requirementsFile: project.requirementsFile } : {}),
    },
    builtMarker: r.builtMarker,
    current: { link: p.current, target: `releases/${releaseId(commit)}` },
    script: buildScript(buildArgs),
    check: buildCheck(buildArgs),
  }, { kind: "files", id: "env-file", files: [envFile] }, {
    kind: "manage", id: "collectstatic", args: "collectstatic --noinput -v 0", user: app.name, source: r.source, venv: r.venv,
    envFile: p.envFile, rerunOn: ["release", envFile], script: collect.create,
    ...(settings.staticfiles && settings.staticRoot ? { staticRoot: settings.staticRoot } : {}),
  });
  if (here.migrates) {
    at("build", {
      kind: "manage", id: "migrate", args: "migrate --noinput", user: app.name, source: r.source, venv: r.venv,
      envFile: p.envFile, rerunOn: ["release", envFile], script: manageCommand(app, "migrate --noinput", code) + "\n",
    });
  }
  if (!here.gunicorn) return envFile;

  // gunicorn (services/app/appNode.ts).
  const g = here.gunicorn;
  const bindAddress = g.bindAddress;
  const gConf = add(file("gunicorn-conf", g.conf, renderGunicornConf({
    bindAddress, port: app.port, workers: app.gunicorn.workers,
    timeoutSeconds: app.gunicorn.timeoutSeconds, maxRequests: app.gunicorn.maxRequests,
  })));
  const gUnit = add(file("gunicorn-unit", unitFilePath(g.unit), renderGunicornUnit({
    appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv,
    envFile: p.envFile, wsgiModule: app.wsgiModule, configFile: g.conf,
    stopTimeoutSeconds: g.stopTimeoutSeconds,
  })));
  // The socket gunicorn serves on (Requires= in its unit): started with gunicorn.
  const gSocket = add(file("gunicorn-socket-unit", unitFilePath(g.socketUnit), renderGunicornSocket({
    appName: app.name, bindAddress, port: app.port,
  })));
  const gate = {
    unit: g.unit,
    url: `http://${bindAddress}:${app.port}${app.healthCheck.path}`,
    hostHeader: plan.privateAddress,
    ...(app.healthCheck.status !== undefined ? { status: app.healthCheck.status } : {}),
    timeoutSeconds: app.healthCheck.timeoutSeconds,
  };
  at("switch", { kind: "files", id: "gunicorn-files", files: [gConf, gUnit, gSocket] },
    // The unit's own change restarts it; a new release or env file restarts it through
    // the dev stack's switch; its config is re-read on HUP.
    service("gunicorn", g.unit, {
      restartOn: [gUnit, envFile, "release"], reloadOn: [gConf],
      readyCheck: { port: app.port, host: bindAddress, http: true }, ownUnitFile: gUnit,
    }),
    { kind: "healthGate", id: "healthGate", ...gate, script: healthGateScript(gate), keepReleases: app.keepReleases });
  return envFile;
}
