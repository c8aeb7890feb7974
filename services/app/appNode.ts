/**
 * AppNode: gunicorn serving the app on one host, under systemd, and the switch that moves
 * it onto a new release: out of the load balancer, `current` moved, gunicorn restarted,
 * the health check passed, back in (see providers/releaseSwitch.ts). gunicorn serves on
 * a systemd socket, so its restarts refuse no connection. Config changes gunicorn takes
 * on HUP (workers, timeouts) reload it gracefully; a changed unit file is restarted onto
 * by the switch, node by node behind the gate, like a new release.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppPlan } from "../../config/apps.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderGunicornConf } from "./gunicornConf.ts";
import { gunicornSocketName, renderGunicornSocket, renderGunicornUnit } from "./systemdUnits.ts";
import { hostPort } from "../../lib/render.ts";
import type { ReleaseSwitch } from "../../providers/releaseSwitch.ts";
import { cmd, script } from "../../lib/shell.ts";
import type { SystemdService } from "../../providers/systemdService.ts";
import type { Connection } from "../../providers/ssh.ts";
import { appPaths, type AppRelease } from "./appRelease.ts";
import type { Host } from "../../components/host.ts";
import { gunicornFiles, nginxSitePath } from "../../plan/files.ts";
import { upstreamAddress } from "../../plan/listen.ts";

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
  /** The previous batch's switches: this node moves only once they passed their gates. @default [] */
  readonly afterSwitches?: pulumi.Resource[];
  /** The load balancer that drains this node during its switch, and for how long. @default no drain */
  readonly drain?: { readonly connection: pulumi.Input<Connection>; readonly seconds: number };
}

export class AppNode extends pulumi.ComponentResource {
  /** Where the load balancer reaches this node. */
  public readonly upstream: { address: string; port: number };
  /** The gunicorn service. */
  public readonly service: SystemdService;
  /** The node's move onto the release; done once it passed its health gate. */
  public readonly switch: ReleaseSwitch;

  constructor(name: string, args: AppNodeArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:AppNode", name, {}, opts);
    const { host: h, app } = args;
    const p = appPaths(app.name);
    const files = gunicornFiles(app);
    const confPath = files.conf;
    const conf = renderGunicornConf({
      bindAddress: args.bindAddress, port: app.port, workers: app.gunicorn.workers,
      timeoutSeconds: app.gunicorn.timeoutSeconds, maxRequests: app.gunicorn.maxRequests,
    });
    const unitName = files.unit;
    const unit = renderGunicornUnit({
      appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv,
      envFile: p.envFile, wsgiModule: app.wsgiModule, configFile: confPath,
      // systemd must wait for gunicorn's graceful stop, which lasts up to the timeout.
      stopTimeoutSeconds: files.stopTimeoutSeconds,
    });
    const confFile = h.file(`${name}-gunicorn-conf`, { path: confPath, content: conf }, { parent: this });
    const unitFile = h.file(`${name}-gunicorn-unit`, { path: `/etc/systemd/system/${unitName}`, content: unit }, { parent: this });
    const socketName = gunicornSocketName(app.name);
    const socketUnit = renderGunicornSocket({ appName: app.name, bindAddress: args.bindAddress, port: app.port });
    const socketFile = h.file(`${name}-gunicorn-socket-unit`, { path: `/etc/systemd/system/${socketName}`, content: socketUnit }, { parent: this });
    // Keeps the unit enabled and running. A new release, env file or unit file restarts it
    // through the switch below (drained or checked beside, and gated), not here: so the
    // unit file is not among what this service loads, or a unit change would restart
    // every node at once, ungated, before any switch ran. The first
    // start also starts its socket (Requires=). On a stack from before the socket, this
    // restarts it once, as its restartOn moved to the switch: the old gunicorn lets go of
    // the port, then the socket takes it.
    this.service = h.service(`${name}-gunicorn`, {
      unit: unitName,
      reloadOn: { "gunicorn.conf.py": shortHash(conf) },
      loads: [{ file: confFile, then: "reload" }],
      // Ready once a worker answers: the master listens before the app is imported.
      readyCheck: { port: app.port, host: args.bindAddress, http: true },
    }, { parent: this, dependsOn: [confFile, unitFile, socketFile, ...args.release.ready, ...args.after] });
    // The socket: enabled for boot and listening. Started by the service's first start
    // (Requires=), never before it: a socket started first would find the port still held
    // by a gunicorn from before the socket. Not restarted when created (a restart of the
    // socket restarts the service, refusing connections meanwhile); a changed socket (the
    // port) is restarted, and with it the service. Deleted before the service: stopping
    // the socket stops the service (Requires=), and no connection can start it again.
    const s = cmd(socketName);
    const socket = h.script(`${name}-gunicorn-socket`, {
      description: `${socketName}: enabled and listening`,
      create: script(`systemctl enable --quiet ${s}`, `systemctl is-active --quiet ${s} || systemctl start ${s}`),
      update: script("systemctl daemon-reload", `systemctl enable --quiet ${s}`, `systemctl restart ${s} ${cmd(unitName)}`),
      delete: script(`if systemctl cat ${s} >/dev/null 2>&1; then systemctl disable --now ${s} || true; fi`),
      // Drift: the socket stopped or disabled by hand.
      check: script(`systemctl is-enabled --quiet ${s}`, `systemctl is-active --quiet ${s}`),
      triggers: { [socketName]: shortHash(socketUnit) },
    }, { parent: this, dependsOn: [this.service] });
    this.upstream = { address: upstreamAddress(h.plan, args.bindAddress), port: app.port };
    const server = hostPort(this.upstream.address, app.port);
    this.switch = h.releaseSwitch(`${name}-release`, {
      app: app.name,
      release: args.release.releaseId,
      unit: unitName,
      // Every write of the env or unit file (a change, or a hand edit put back) is a new
      // stamp: the switch restarts onto what is on disk, gated, node by node.
      restartOn: { env: args.release.envFile.written, [unitName]: unitFile.written },
      health: {
        url: `http://${hostPort(args.bindAddress, app.port)}${app.healthCheck.path}`,
        // An address the app's allowed hosts always hold.
        hostHeader: h.plan.privateAddress,
        ...(app.healthCheck.status !== undefined ? { status: app.healthCheck.status } : {}),
        timeoutSeconds: app.healthCheck.timeoutSeconds,
      },
      ...(args.drain ? { drain: { connection: args.drain.connection, site: nginxSitePath(app.name), server, seconds: args.drain.seconds } } : {}),
      side: { envFile: p.envFile, wsgiModule: app.wsgiModule, configFile: confPath },
      keepReleases: app.keepReleases,
    }, { parent: this, dependsOn: [this.service, socket, ...(args.afterSwitches ?? [])] });
    this.registerOutputs({});
  }
}
