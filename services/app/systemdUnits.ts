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
} from "../../lib/render.ts";

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

const UNIX_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
/** A dotted Python module path (the WSGI module, a Celery app). */
export const PY_DOTTED = "[A-Za-z_][A-Za-z0-9_]*(?:\\.[A-Za-z_][A-Za-z0-9_]*)*";

/** {@link AppServiceOptions}, checked. */
export interface CheckedBase {
  app: string;
  user: string;
  group: string;
  sourceDir: string;
  venvBin: string;
  envFile: string;
}

/** Checks the options every app unit takes; `kind` names the unit in errors. */
export function checkBase(kind: string, o: AppServiceOptions): CheckedBase {
  return {
    app: assertName(`${kind} appName`, o.appName),
    user: assertMatches(`${kind} user`, o.user, UNIX_NAME, "a Unix user name"),
    group: assertMatches(`${kind} group`, o.group, UNIX_NAME, "a Unix group name"),
    sourceDir: assertPath(`${kind} sourceDir`, o.sourceDir),
    venvBin: `${stripTrailingSlash(assertPath(`${kind} venvDir`, o.venvDir))}/bin`,
    envFile: assertPath(`${kind} envFile`, o.envFile),
  };
}

/** What differs between the app's units (gunicorn, Celery worker and beat). */
export interface UnitParts {
  description: string;
  /** Lines of `[Unit]` after the network ones. */
  unit?: readonly string[];
  /** Lines of `[Service]` that differ between units, placed after ExecStart. */
  service: readonly string[];
  execStart: string;
}

/** One app service unit: the skeleton gunicorn and the Celery units share. */
export function renderUnit(b: CheckedBase, p: UnitParts): string {
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
