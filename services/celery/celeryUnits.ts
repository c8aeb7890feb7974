/**
 * The Celery worker and beat systemd units of a Django app. They share the app unit
 * skeleton with gunicorn's (services/app/systemdUnits.ts): same user, folders and env file.
 */
import { assertInt, assertMatches, assertName, assertPath, withDefault } from "../../lib/render.ts";
import { checkBase, PY_DOTTED, renderUnit, type AppServiceOptions } from "../app/systemdUnits.ts";

/** Options for {@link renderCeleryWorkerUnit}. */
export interface CeleryWorkerUnitOptions extends AppServiceOptions {
  /** Celery app for `celery -A`, e.g. `fleetdemo` or `fleetdemo.celery:app`. */
  readonly celeryApp: string;
  /**
   * Worker processes (`--concurrency`).
   * @default 2
   */
  readonly concurrency?: number;
  /**
   * Queues consumed (`--queues`), in the order given.
   * @default ["celery"]
   */
  readonly queues?: readonly string[];
  /**
   * Node name before `@` in `--hostname <workerName>@%H` (`%H` is systemd's host name
   * specifier), so every host's worker has a distinct node name.
   * @default "worker"
   */
  readonly workerName?: string;
  /**
   * `TimeoutStopSec=`: how long a warm shutdown (running tasks finish) may last on stop or
   * restart before systemd kills what is left.
   * @default 60
   */
  readonly stopTimeoutSeconds?: number;
}

/** Options for {@link renderCeleryBeatUnit}. */
export interface CeleryBeatUnitOptions extends AppServiceOptions {
  /** Celery app for `celery -A`, e.g. `fleetdemo`. */
  readonly celeryApp: string;
  /**
   * Beat's persistent schedule file (`--schedule`). When it is under `/var/lib/`, the unit
   * sets `StateDirectory=` so systemd creates its directory owned by `user`.
   * @default `/var/lib/<appName>/celerybeat-schedule`
   */
  readonly scheduleFile?: string;
}

/** Renders the Celery worker systemd service (never with embedded beat: beat is its own unit). */
export function renderCeleryWorkerUnit(o: CeleryWorkerUnitOptions): string {
  const b = checkBase("celery worker unit", o);
  const celeryApp = checkCeleryApp("celery worker", o.celeryApp);
  const concurrency = assertInt("celery worker concurrency", withDefault(o.concurrency, 2), 1, 1024);
  const queues = withDefault(o.queues, ["celery"]);
  if (queues.length === 0) throw new Error("celery worker queues is empty; give at least one queue");
  queues.forEach((q, i) => assertMatches(`celery worker queues[${i}]`, q, /^[A-Za-z0-9_.-]+$/, "letters, digits, '_', '.' and '-'"));
  const workerName = assertName("celery worker workerName", withDefault(o.workerName, "worker"));
  return renderUnit(b, {
    description: `${b.app} Celery worker`,
    execStart: `${b.venvBin}/celery -A ${celeryApp} worker --loglevel INFO --concurrency ${concurrency} --queues ${queues.join(",")} --hostname ${workerName}@%H`,
    service: [
      // SIGTERM to the main process is Celery's warm shutdown: running tasks finish first.
      "KillSignal=SIGTERM",
      "KillMode=mixed",
      `TimeoutStopSec=${assertInt("celery worker stopTimeoutSeconds", withDefault(o.stopTimeoutSeconds, 60), 1, 86400)}`,
      `SyslogIdentifier=${b.app}-celery-worker`,
    ],
  });
}

/** Renders the Celery beat systemd service; run it on exactly one host. */
export function renderCeleryBeatUnit(o: CeleryBeatUnitOptions): string {
  const b = checkBase("celery beat unit", o);
  const celeryApp = checkCeleryApp("celery beat", o.celeryApp);
  const scheduleFile = assertPath("celery beat scheduleFile", withDefault(o.scheduleFile, `/var/lib/${b.app}/celerybeat-schedule`));
  const stateDir = scheduleFile.startsWith("/var/lib/")
    ? scheduleFile.slice("/var/lib/".length).split("/").slice(0, -1).join("/")
    : "";
  return renderUnit(b, {
    description: `${b.app} Celery beat scheduler`,
    execStart: `${b.venvBin}/celery -A ${celeryApp} beat --loglevel INFO --schedule ${scheduleFile}`,
    service: [
      // systemd creates the schedule's directory owned by User=, so beat can write it. Its
      // mode is the app layout's (0750): systemd's default, 0755, would undo the layout at
      // every start of beat.
      stateDir !== "" && `StateDirectory=${stateDir}`,
      stateDir !== "" && "StateDirectoryMode=0750",
      `SyslogIdentifier=${b.app}-celery-beat`,
    ].filter((l): l is string => typeof l === "string"),
  });
}

function checkCeleryApp(kind: string, value: string): string {
  return assertMatches(`${kind} celeryApp`, value, new RegExp(`^${PY_DOTTED}(?::[A-Za-z_][A-Za-z0-9_]*)?$`), "a Python module path, optionally with :attribute");
}
