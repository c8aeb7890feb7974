/**
 * AppNode: gunicorn serving the app on one host, under systemd. Config changes gunicorn
 * can take on HUP (workers, timeouts) and new releases reload it gracefully; a changed
 * unit or env file restarts it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppPlan } from "../config/apps.ts";
import { shortHash } from "../lib/hash.ts";
import { renderGunicornConf } from "../templates/gunicornConf.ts";
import { renderGunicornUnit } from "../templates/systemdUnits.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { SystemdService } from "../providers/systemdService.ts";
import { appPaths, type AppRelease } from "./appRelease.ts";
import type { Host } from "./host.ts";

export interface AppNodeArgs {
  /** The app host. */
  readonly host: Host;
  /** The app config. */
  readonly app: AppPlan;
  /** The code on this host. */
  readonly release: AppRelease;
  /** Address gunicorn binds to: loopback when the load balancer shares the host. */
  readonly bindAddress: string;
  /** Resources that must exist first (the migration of this release). */
  readonly after: pulumi.Resource[];
}

export class AppNode extends pulumi.ComponentResource {
  /** Where the load balancer reaches this node. */
  public readonly upstream: { address: string; port: number };
  /** The gunicorn service. */
  public readonly service: SystemdService;

  constructor(name: string, args: AppNodeArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:AppNode", name, {}, opts);
    const { host: h, app } = args;
    const p = appPaths(app.name);
    const confPath = `/etc/${app.name}/gunicorn.conf.py`;
    const conf = renderGunicornConf({
      bindAddress: args.bindAddress, port: app.port, workers: app.gunicorn.workers,
      timeoutSeconds: app.gunicorn.timeoutSeconds, maxRequests: app.gunicorn.maxRequests,
    });
    const unitName = `${app.name}-gunicorn.service`;
    const unit = renderGunicornUnit({
      appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv,
      envFile: p.envFile, wsgiModule: app.wsgiModule, configFile: confPath,
      // systemd must wait for gunicorn's graceful stop, which lasts up to the timeout.
      stopTimeoutSeconds: app.gunicorn.timeoutSeconds + 5,
    });
    const confFile = new RemoteFile(`${name}-gunicorn-conf`, {
      connection: h.connection, path: confPath, content: conf,
    }, { parent: this, dependsOn: h.ready });
    const unitFile = new RemoteFile(`${name}-gunicorn-unit`, {
      connection: h.connection, path: `/etc/systemd/system/${unitName}`, content: unit,
    }, { parent: this, dependsOn: h.ready });
    this.service = new SystemdService(`${name}-gunicorn`, {
      connection: h.connection,
      unit: unitName,
      restartOn: { [unitName]: shortHash(unit), env: args.release.envHash },
      reloadOn: { "gunicorn.conf.py": shortHash(conf), commit: args.release.commit.slice(0, 12) },
    }, { parent: this, dependsOn: [confFile, unitFile, ...args.release.ready, ...args.after] });
    this.upstream = { address: args.bindAddress === "127.0.0.1" ? "127.0.0.1" : h.plan.privateAddress, port: app.port };
    this.registerOutputs({});
  }
}
