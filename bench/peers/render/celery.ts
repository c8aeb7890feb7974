/** Celery's worker and beat, on the hosts the plan runs them. */
import { unitFilePath } from "../../../plan/files.ts";
import type { HostApp } from "../../../plan/fleetPlan.ts";
import { renderCeleryBeatUnit, renderCeleryWorkerUnit } from "../../../services/celery/celeryUnits.ts";
import { file, service, type HostContext } from "./context.ts";

/** Renders the host's Celery units, restarted with the release and the env file (`envFile`: its id). */
export function renderCelery({ cfg, app, paths: p, add, at }: HostContext, here: HostApp, envFile: string): void {
  // Celery (services/celery/celeryWorker.ts).
  const c = here.celery;
  if (!c) return;
  const base = { appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv, envFile: p.envFile, celeryApp: c.celeryApp };
  const wUnit = c.worker ? add(file("celery-worker-unit", unitFilePath(c.workerUnit), renderCeleryWorkerUnit({
    ...base, concurrency: app.celery.concurrency, queues: app.celery.queues, stopTimeoutSeconds: cfg.deploy.celeryStopTimeoutSeconds,
  }))) : undefined;
  const bUnit = c.beat ? add(file("celery-beat-unit", unitFilePath(c.beatUnit), renderCeleryBeatUnit({
    ...base, scheduleFile: c.scheduleFile,
  }))) : undefined;
  at("consumers", { kind: "files", id: "celery-files", files: [wUnit, bUnit].filter((x): x is string => !!x) },
    ...(wUnit ? [service("celery-worker", c.workerUnit, { restartOn: [wUnit, envFile, "release"], ownUnitFile: wUnit })] : []),
    ...(bUnit ? [service("celery-beat", c.beatUnit, { restartOn: [bUnit, envFile, "release"], ownUnitFile: bUnit })] : []));
}
