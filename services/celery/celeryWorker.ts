/**
 * CeleryWorker: one app's Celery workers on one host, and the app's single beat where this
 * host holds the beat role (the topology guarantees there is exactly one beat host).
 */
import * as pulumi from "@pulumi/pulumi";
import type { AppPlan } from "../../config/apps.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderCeleryBeatUnit, renderCeleryWorkerUnit } from "./celeryUnits.ts";
import { appPaths, type AppRelease } from "../app/appRelease.ts";
import type { Host } from "../../components/host.ts";
import { celeryFiles } from "../../plan/files.ts";

export interface CeleryWorkerArgs {
  /** The host. */
  readonly host: Host;
  /** The app (its Celery settings included). */
  readonly app: AppPlan;
  /** The code on this host. */
  readonly release: AppRelease;
  /** Run workers here. */
  readonly worker: boolean;
  /** Run the beat here. */
  readonly beat: boolean;
  /** Resources that must exist first (broker account, migration, every app node's switch to the release, this host's `current`). */
  readonly after: pulumi.Resource[];
  /** Seconds a worker's warm shutdown may last when it restarts. @default 60 */
  readonly stopTimeoutSeconds?: number;
}

export class CeleryWorker extends pulumi.ComponentResource {
  constructor(name: string, args: CeleryWorkerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:CeleryWorker", name, {}, opts);
    const { host: h, app, release } = args;
    const p = appPaths(app.name);
    const files = celeryFiles(app);
    const celeryApp = files.celeryApp;
    const base = { appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv, envFile: p.envFile, celeryApp };

    const units: Array<[string, string]> = [];
    if (args.worker) {
      units.push([files.workerUnit, renderCeleryWorkerUnit({
        ...base, concurrency: app.celery.concurrency, queues: app.celery.queues, stopTimeoutSeconds: args.stopTimeoutSeconds,
      })]);
    }
    if (args.beat) {
      units.push([files.beatUnit, renderCeleryBeatUnit({
        ...base, scheduleFile: files.scheduleFile,
      })]);
    }
    for (const [unitName, unit] of units) {
      const short = unitName.replace(`${app.name}-celery-`, "").replace(".service", "");
      const file = h.file(`${name}-${short}-unit`, { path: `/etc/systemd/system/${unitName}`, content: unit }, { parent: this });
      // Celery has no graceful code reload: a new release or env restarts it, after every
      // app node switched (warm shutdown lets running tasks finish first). A restart stops
      // the one beat before it starts again, so beat is never doubled.
      h.service(`${name}-${short}`, {
        unit: unitName,
        restartOn: { [unitName]: shortHash(unit), env: release.envHash, commit: release.releaseId },
        loads: [{ file, then: "restart" }, { file: release.envFile, then: "restart" }],
      }, { parent: this, dependsOn: [file, ...release.ready, ...args.after] });
    }
    this.registerOutputs({});
  }
}
