/** The lines of a SystemdService plan that prove an active unit ready after the plan acted on it. */
import { cmd } from "../lib/shell.ts";
import type { ServiceState } from "./systemdService.state.ts";

/** Seconds a started unit may take to answer on its ready port. */
export const READY_TIMEOUT_SECONDS = 30;
/** The short watch of a unit whose start (or reload) systemd does not wait for: steps of 0.25 s. */
export const SETTLE_STEPS = 6;

/**
 * Proves an active unit ready, in as little time as the unit allows; no fixed wait.
 *
 * - `running` is the unit active with no automatic restart since we acted: NRestarts
 *   must stay what it was right after our start, restart or reload returned, whatever
 *   the unit's history (systemd does not reset it). A unit that dies shows as
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
export function readiness(desired: ServiceState, acted: "started" | "reloaded" | "untouched"): string[] {
  const u = cmd(desired.unit);
  const isService = desired.unit.endsWith(".service");
  const lines: string[] = [];
  if (isService) {
    // Taken once our start, restart or reload returned: what systemd counted before (a
    // unit that failed in the past, or was in its restart delay when we started it, keeps
    // its count: NRestarts is never reset) is not this start's business.
    lines.push(`n0=$(systemctl show -p NRestarts --value ${u})`);
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
