import {
  assertHost,
  assertInt,
  assertMatches,
  assertName,
  assertPath,
  assertPort,
  hostPort,
  managedHeader,
  renderLines,
  stripTrailingSlash,
  withDefault,
} from "./common.ts";

/** Options every app service unit takes. */
export interface AppServiceOptions {
  /** App name; used in descriptions and `SyslogIdentifier=`. */
  readonly appName: string;
  /** Unix user the service runs as. */
  readonly user: string;
  /** Unix group the service runs as. */
  readonly group: string;
  /** Django project checkout; the service's `WorkingDirectory=`. */
  readonly sourceDir: string;
  /** Python virtualenv holding gunicorn/celery (`<venvDir>/bin/...`). */
  readonly venvDir: string;
  /** Environment file (see `renderEnvFile`) loaded via `EnvironmentFile=`; must exist. */
  readonly envFile: string;
}

/**
 * Options for {@link renderGunicornUnit}. Bind address, workers and timeouts live in the
 * gunicorn config file (see `renderGunicornConf`), which gunicorn re-reads on HUP, so
 * changing them is a graceful reload rather than a unit change and restart.
 */
export interface GunicornUnitOptions extends AppServiceOptions {
  /** WSGI callable, e.g. `fleetdemo.wsgi:application`. */
  readonly wsgiModule: string;
  /** Absolute path of the gunicorn config file (`--config`), e.g. `/etc/<app>/gunicorn.conf.py`. */
  readonly configFile: string;
  /**
   * `TimeoutStopSec=`: how long systemd waits for gunicorn to drain on stop before killing
   * it. Keep it above the config's `graceful_timeout`, or long requests are cut off.
   * @default 30
   */
  readonly stopTimeoutSeconds?: number;
}

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

const UNIX_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
const PY_DOTTED = "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*";

interface CheckedBase {
  app: string;
  user: string;
  group: string;
  sourceDir: string;
  venvBin: string;
  envFile: string;
}

function checkBase(kind: string, o: AppServiceOptions): CheckedBase {
  return {
    app: assertName(`${kind} appName`, o.appName),
    user: assertMatches(`${kind} user`, o.user, UNIX_NAME, "a Unix user name"),
    group: assertMatches(`${kind} group`, o.group, UNIX_NAME, "a Unix group name"),
    sourceDir: assertPath(`${kind} sourceDir`, o.sourceDir),
    venvBin: `${stripTrailingSlash(assertPath(`${kind} venvDir`, o.venvDir))}/bin`,
    envFile: assertPath(`${kind} envFile`, o.envFile),
  };
}

interface UnitParts {
  description: string;
  /** Lines of `[Unit]` after the network ones. */
  unit?: readonly string[];
  /** Lines of `[Service]` that differ between units, placed after ExecStart. */
  service: readonly string[];
  execStart: string;
}

function renderUnit(b: CheckedBase, p: UnitParts): string {
  return renderLines([
    managedHeader("#"),
    "[Unit]",
    `Description=${p.description}`,
    // Wait for real network so binding to a private address or reaching the broker works.
    "After=network-online.target",
    "Wants=network-online.target",
    ...(p.unit ?? []),
    "",
    "[Service]",
    "Type=simple",
    `User=${b.user}`,
    `Group=${b.group}`,
    `WorkingDirectory=${b.sourceDir}`,
    // No "-" prefix: a missing secrets file must fail the start, not run without settings.
    `EnvironmentFile=${b.envFile}`,
    // Python buffers stdout when it is not a tty; unbuffered lines reach journald at once.
    "Environment=PYTHONUNBUFFERED=1",
    `ExecStart=${p.execStart}`,
    ...p.service,
    "Restart=on-failure",
    "RestartSec=5",
    "PrivateTmp=true",
    "NoNewPrivileges=true",
    "",
    "[Install]",
    "WantedBy=multi-user.target",
  ]);
}

/** Renders the gunicorn systemd service for a Django app. */
export function renderGunicornUnit(o: GunicornUnitOptions): string {
  const b = checkBase("gunicorn unit", o);
  const wsgi = assertMatches("gunicorn wsgiModule", o.wsgiModule, new RegExp(`^${PY_DOTTED}:[A-Za-z_][A-Za-z0-9_]*$`), "module.path:callable");
  const configFile = assertPath("gunicorn configFile", o.configFile);
  const stopTimeout = assertInt("gunicorn stopTimeoutSeconds", withDefault(o.stopTimeoutSeconds, 30), 1, 86400);
  return renderUnit(b, {
    description: `${b.app} gunicorn (Django WSGI)`,
    // Its listening socket is systemd's (see renderGunicornSocket): gunicorn takes it from
    // LISTEN_FDS, so a restart never closes the port. Requires= also stops the service
    // with the socket (destroy), and restarts it when the socket is restarted.
    unit: [`Requires=${gunicornSocketName(b.app)}`, `After=${gunicornSocketName(b.app)}`],
    execStart: `${b.venvBin}/gunicorn --config ${configFile} ${wsgi}`,
    service: [
      // HUP re-reads the config file, starts new workers and retires old ones gracefully:
      // new code and new settings without dropped requests.
      "ExecReload=/bin/kill -s HUP $MAINPID",
      // SIGTERM only to the master, which drains its workers; stragglers are killed at the timeout.
      "KillMode=mixed",
      `TimeoutStopSec=${stopTimeout}`,
      `SyslogIdentifier=${b.app}-gunicorn`,
    ],
  });
}

/** The socket unit of an app's gunicorn: `<app>-gunicorn.socket`. */
export function gunicornSocketName(appName: string): string {
  return `${assertName("gunicorn socket appName", appName)}-gunicorn.socket`;
}

/** Options for {@link renderGunicornSocket}. */
export interface GunicornSocketOptions {
  /** App name; names the unit `<app>-gunicorn.socket` and the service it activates. */
  readonly appName: string;
  /** Address gunicorn serves on (the config file's bind address). */
  readonly bindAddress: string;
  /** Port gunicorn serves on. */
  readonly port: number;
  /**
   * `Backlog=`: connections the kernel queues while no gunicorn accepts them (during a
   * restart). The kernel caps it at `net.core.somaxconn` (4096 on current kernels).
   * @default 4096
   */
  readonly backlog?: number;
}

/**
 * Renders the systemd socket gunicorn serves on. systemd holds the listening socket, so it
 * outlives gunicorn: while the service restarts (a new release, env file or unit file),
 * new connections wait in the backlog and are answered by the new master's workers
 * instead of being refused. gunicorn takes the socket from LISTEN_FDS and then ignores
 * its `bind` setting; on stop it closes only its own copy.
 */
export function renderGunicornSocket(o: GunicornSocketOptions): string {
  const app = assertName("gunicorn socket appName", o.appName);
  const listen = hostPort(assertHost("gunicorn socket bindAddress", o.bindAddress), assertPort("gunicorn socket port", o.port));
  const backlog = assertInt("gunicorn socket backlog", withDefault(o.backlog, 4096), 1, 65535);
  return renderLines([
    managedHeader("#"),
    "[Unit]",
    `Description=${app} gunicorn socket`,
    "",
    "[Socket]",
    `ListenStream=${listen}`,
    // Sockets start early at boot, before the network: a private address may not exist yet.
    "FreeBind=true",
    `Backlog=${backlog}`,
    "",
    "[Install]",
    "WantedBy=sockets.target",
  ]);
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
