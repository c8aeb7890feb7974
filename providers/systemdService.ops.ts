/**
 * Operations of the SystemdService provider: a unit's enabled/active state, plus the
 * restart or reload its changed inputs call for. Refresh reads the real state, so a
 * service someone stopped shows as drift and the next `up` starts it again.
 */
import { sameRecord } from "../lib/records.ts";
import { cmd, script } from "../lib/shell.ts";
import { run, type Connection } from "./ssh.ts";

export interface ServiceState {
  readonly connection: Connection;
  readonly unit: string;
  readonly enabled: boolean;
  readonly active: boolean;
  /** Named hashes of what needs a restart when it changes (unit file, code release). */
  readonly restartOn?: Record<string, string>;
  /** Named hashes of what needs only a reload (e.g. a config the service re-reads on HUP). */
  readonly reloadOn?: Record<string, string>;
  /** Stop and disable the unit on delete: true for our own units, false for a package's. */
  readonly stopOnDelete?: boolean;
  /** How to tell the unit is ready after a start, restart or reload (see {@link plan}). */
  readonly readyCheck?: ReadyCheck;
  readonly schema?: number;
}

/** A socket the service answers on once it is ready. */
export interface ReadyCheck {
  /** TCP port. */
  readonly port: number;
  /** Address to connect to; a wildcard (`0.0.0.0`, `::`) means loopback. @default "127.0.0.1" */
  readonly host?: string;
  /**
   * Send a request and wait for an HTTP status line, not just a connection. For gunicorn:
   * its master accepts connections before the workers have imported the app, so only an
   * answer proves the app loads. The request is malformed on purpose (gunicorn answers 400
   * itself and logs one "Invalid request" line), so no app code runs. @default false
   */
  readonly http?: boolean;
}

/** Seconds a started unit may take to answer on its ready port. */
export const READY_TIMEOUT_SECONDS = 30;
/** The short watch of a unit whose start (or reload) systemd does not wait for: steps of 0.25 s. */
export const SETTLE_STEPS = 6;

export interface ObservedService {
  readonly enabled: boolean;
  readonly active: boolean;
}

export function probeScript(unit: string): string {
  return script(
    `u=${cmd(unit)}`,
    `echo "$(systemctl is-enabled "$u" 2>/dev/null || true) $(systemctl is-active "$u" 2>/dev/null || true)"`,
  );
}

export function parseProbe(stdout: string): ObservedService {
  const [enabled, active] = stdout.trim().split(/\s+/);
  // Units enabled through another unit (static, indirect, ...) count as enabled: asking
  // systemctl to enable them again would change nothing and show as drift forever.
  const enabledStates = ["enabled", "enabled-runtime", "static", "indirect", "alias", "generated", "linked"];
  return { enabled: enabledStates.includes(enabled ?? ""), active: active === "active" || active === "reloading" };
}


/**
 * What changed between the recorded and the desired inputs. A unit the last refresh found
 * stopped is restarted, not just started: whatever stopped it (a rebuilt server, a
 * package reinstall) may have started it again since with the package's own config.
 */
export function changes(olds: ServiceState | undefined, news: ServiceState) {
  return {
    restart: !olds || !sameRecord(olds.restartOn, news.restartOn) || (olds.active === false && news.active),
    reload: !olds || !sameRecord(olds.reloadOn, news.reloadOn),
  };
}

/**
 * The plan. A restart covers a reload; nothing is restarted that need not be; a unit
 * that should be active is proven ready before the run goes on, with its journal shown
 * when it is not, so a crash-looping app fails the run instead of hiding.
 */
export function plan(desired: ServiceState, observed: ObservedService, change: { restart: boolean; reload: boolean }): string {
  const u = cmd(desired.unit);
  const steps: string[] = [];
  // A start, restart or reload that fails shows the unit's journal: the cause, not just "failed".
  // One retry after a pause: systemd in a container has been seen to fail a reload once
  // with "Failed to spawn executor: No such file or directory" and succeed right after.
  const orJournal = (c: string) => `${c} || { sleep 2; ${c}; } || { journalctl -u ${u} -n 25 --no-pager -o cat >&2; exit 1; }`;
  if (change.restart) steps.push("systemctl daemon-reload");
  if (desired.enabled && !observed.enabled) steps.push(`systemctl enable ${u}`);
  if (!desired.enabled && observed.enabled) steps.push(`systemctl disable ${u}`);
  const started = desired.active && (!observed.active || change.restart);
  let reloaded = false;
  if (desired.active) {
    if (!observed.active) steps.push(orJournal(`systemctl start ${u}`));
    else if (change.restart) steps.push(orJournal(`systemctl restart ${u}`));
    else if (change.reload) { steps.push(orJournal(`systemctl reload-or-restart ${u}`)); reloaded = true; }
  } else if (observed.active) {
    steps.push(`systemctl stop ${u}`);
  }
  if (steps.length === 0) return "";
  if (desired.active) steps.push(...readiness(desired, started ? "started" : reloaded ? "reloaded" : "untouched"));
  return script(...steps);
}

/**
 * Proves an active unit ready, in as little time as the unit allows; no fixed wait.
 *
 * - `running` is the unit active with no automatic restart since we acted: NRestarts
 *   is 0 after a start or restart we asked for (systemd resets it then), and after a
 *   reload it must stay what it was right after the reload. A unit that dies shows as
 *   not active at once (Restart= waits RestartSec in "activating"); one that systemd
 *   restarted quickly shows in NRestarts. Timers and sockets have no NRestarts.
 * - After a start: with a ready port, the port is polled until it answers (at most
 *   READY_TIMEOUT_SECONDS), failing as soon as the unit stops running. Without one, a
 *   notify, forking, oneshot or dbus service is ready when `systemctl start` returns
 *   (systemd waited for READY=1, the fork, or the exit), so one check suffices; a
 *   simple, exec or idle one is watched for SETTLE_STEPS × 0.25 s.
 * - After a reload: a simple/exec/idle service handles it later (gunicorn on HUP starts
 *   new workers with the new code), so it is watched first; then its port is polled,
 *   and that answer comes from a worker started after the reload.
 * - A unit we did not start or reload (only enabled) is checked once.
 */
function readiness(desired: ServiceState, acted: "started" | "reloaded" | "untouched"): string[] {
  const u = cmd(desired.unit);
  const isService = desired.unit.endsWith(".service");
  const lines: string[] = [];
  if (isService) {
    lines.push(acted === "started" ? "n0=0" : `n0=$(systemctl show -p NRestarts --value ${u})`);
    lines.push(`running() { systemctl is-active --quiet ${u} && [ "$(systemctl show -p NRestarts --value ${u})" = "$n0" ]; }`);
  } else {
    lines.push(`running() { systemctl is-active --quiet ${u}; }`);
  }
  lines.push(`down() { echo ${cmd(desired.unit)} "$1" >&2; journalctl -u ${u} -n 25 --no-pager -o cat >&2; exit 1; }`);
  const check = acted === "untouched" ? undefined : desired.readyCheck;
  const settle = isService && acted !== "untouched" && (acted === "reloaded" || !check);
  if (settle) {
    lines.push(`case "$(systemctl show -p Type --value ${u})" in simple|exec|idle)`,
      `  for _ in ${Array.from({ length: SETTLE_STEPS }, (_, i) => i + 1).join(" ")}; do sleep 0.25; running || down 'did not stay running:'; done ;;`,
      "esac");
  }
  if (check) {
    const port = check.port;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${desired.unit}: readyCheck.port ${port} is not a TCP port`);
    const host = !check.host || check.host === "0.0.0.0" ? "127.0.0.1" : check.host === "::" ? "::1" : check.host;
    const at = `${host}:${port}`;
    // bash's /dev/tcp: no client tools needed on the host. `timeout` bounds a connection
    // that hangs; an HTTP answer may wait for a worker to boot, so it gets longer.
    const probe = check.http
      ? `timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/fleet-ready-probe\\r\\n\\r\\n" >&3 && IFS= read -r l <&3 && [[ $l == HTTP/* ]]' ${cmd(host, port)} 2>/dev/null`
      : `timeout 2 bash -c ': 3<>"/dev/tcp/$0/$1"' ${cmd(host, port)} 2>/dev/null`;
    lines.push(`end=$((SECONDS + ${READY_TIMEOUT_SECONDS}))`,
      `until ${probe}; do`,
      `  running || down ${cmd(`stopped before it answered on ${at}:`)}`,
      `  [ "$SECONDS" -lt "$end" ] || down ${cmd(`did not answer on ${at} within ${READY_TIMEOUT_SECONDS} s:`)}`,
      "  sleep 0.25",
      "done");
  }
  lines.push(`running || down ${acted === "untouched" ? "'is not running:'" : "'did not stay running:'"}`);
  return lines;
}

async function converge(olds: ServiceState | undefined, news: ServiceState): Promise<void> {
  const observed = parseProbe((await run(news.connection, probeScript(news.unit), { step: `probe ${news.unit}` })).stdout);
  const body = plan(news, observed, changes(olds, news));
  if (body) await run(news.connection, body, { step: `converge ${news.unit}` });
}

export async function create(inputs: ServiceState) {
  await converge(undefined, inputs);
  return { id: `${inputs.connection.host}:${inputs.unit}`, outs: inputs };
}

export async function diff(_id: string, olds: ServiceState, news: ServiceState) {
  const replaces = olds.unit !== news.unit || olds.connection?.host !== news.connection?.host ? ["unit"] : [];
  const c = changes(olds, news);
  return {
    changes: replaces.length > 0 || c.restart || c.reload || olds.enabled !== news.enabled
      || olds.active !== news.active || olds.schema !== news.schema
      || JSON.stringify(olds.connection) !== JSON.stringify(news.connection),
    replaces,
    deleteBeforeReplace: true,
  };
}

export async function update(_id: string, olds: ServiceState, news: ServiceState) {
  await converge(olds, news);
  return { outs: news };
}

export async function read(id: string, props: ServiceState) {
  const observed = parseProbe((await run(props.connection, probeScript(props.unit), { step: `probe ${props.unit}` })).stdout);
  return { id, props: { ...props, ...observed } };
}

export async function delete_(_id: string, props: ServiceState) {
  if (props.stopOnDelete === false) return;
  await run(props.connection, script(
    `u=${cmd(props.unit)}`,
    `if systemctl cat "$u" >/dev/null 2>&1; then systemctl disable --now "$u" || true; fi`,
  ), { step: `stop ${props.unit}` });
}
export { delete_ as delete };
