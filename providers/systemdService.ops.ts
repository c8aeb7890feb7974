/**
 * Operations of the SystemdService provider: a unit's enabled/active state, plus the
 * restart or reload its changed inputs call for. Refresh reads the real state, so a
 * service someone stopped shows as drift and the next `up` starts it again.
 */
import { sameRecord } from "../lib/records.ts";
import { cmd, script } from "../lib/shell.ts";
import { run, type Connection } from "./ssh.ts";
import { UNTRACKED } from "./remoteFile.ops.ts";

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
  /**
   * The config files the running process loads, each with the stamp of its last write
   * (RemoteFile's `written`): a new stamp reloads or restarts the unit, even when the
   * content is what the program had before (a write that repaired drift). Refresh marks
   * a file the process has not loaded (see {@link notLoaded}). Absent in state written
   * by older code. @default []
   */
  readonly loads?: readonly LoadedFile[];
  readonly schema?: number;
}

/** One config file a service loads. */
export interface LoadedFile {
  /** Absolute path on the host. */
  readonly path: string;
  /**
   * The file's write stamp; refresh replaces it with a {@link NOT_LOADED} note when the
   * running process has not loaded what is on disk. Undefined for a file written by older
   * code and not written since.
   */
  readonly written?: string;
  /** What makes the process load it. */
  readonly then: "reload" | "restart";
  /**
   * A command run by refresh on the host, exiting 0 when what the kernel or daemon holds
   * matches the file (the firewall: the loaded nftables table). @default only times are compared
   */
  readonly check?: string;
}

/** How refresh marks a file the running process has not loaded (the `written` it reports). */
export const NOT_LOADED = "not loaded";

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
  /** Masked (linked to /dev/null): it can be neither enabled nor started until unmasked. @default false */
  readonly masked?: boolean;
}

/** What refresh reads beside the state: when the unit last (re)loaded, and each loaded file. */
export interface ObservedLoads {
  /** Unix seconds the unit last became active from inactive (a start or restart); undefined if never. */
  readonly startedAt?: number;
  /** Unix seconds of its last state change: for an active unit, its last start or reload. */
  readonly changedAt?: number;
  /** Per file of `loads`, in order: its modification time (undefined: missing) and its check's verdict. */
  readonly files: ReadonlyArray<{ readonly mtime?: number; readonly checked: boolean }>;
}

/**
 * The probe: `enabled active` on the first line; with `files` (refresh only, so a run
 * with nothing to do reads no more than before) the unit's start and state-change times
 * and one line per file, `file <mtime|-> <1|0>` (1: its check passed or it has none).
 */
export function probeScript(unit: string, files: readonly LoadedFile[] = []): string {
  return script(
    `u=${cmd(unit)}`,
    `echo "$(systemctl is-enabled "$u" 2>/dev/null || true) $(systemctl is-active "$u" 2>/dev/null || true)"`,
    files.length > 0 && `systemctl show -p ActiveEnterTimestamp -p StateChangeTimestamp --timestamp=unix "$u" 2>/dev/null || true`,
    ...files.map((f) => [
      `m=$(stat -c %Y -- ${cmd(f.path)} 2>/dev/null || echo -)`,
      f.check ? `if ( ${f.check} ) >/dev/null 2>&1; then c=1; else c=0; fi` : "c=1",
      `echo "file $m $c"`,
    ].join("; ")),
  );
}

export function parseProbe(stdout: string): ObservedService {
  const [enabled, active] = (stdout.split("\n")[0] ?? "").trim().split(/\s+/);
  // Units enabled through another unit (static, indirect, ...) count as enabled: asking
  // systemctl to enable them again would change nothing and show as drift forever.
  const enabledStates = ["enabled", "enabled-runtime", "static", "indirect", "alias", "generated", "linked"];
  return {
    enabled: enabledStates.includes(enabled ?? ""), active: active === "active" || active === "reloading",
    ...(enabled === "masked" || enabled === "masked-runtime" ? { masked: true } : {}),
  };
}

/** The times and file lines of a probe run with files (see {@link probeScript}). */
export function parseLoads(stdout: string): ObservedLoads {
  const at = (key: string) => {
    const m = new RegExp(`^${key}=@(\\d+)`, "m").exec(stdout);
    return m ? Number(m[1]) : undefined;
  };
  const files = [...stdout.matchAll(/^file (\S+) ([01])$/gm)].map((m) => ({
    ...(m[1] === "-" ? {} : { mtime: Number(m[1]) }),
    checked: m[2] === "1",
  }));
  return { startedAt: at("ActiveEnterTimestamp"), changedAt: at("StateChangeTimestamp"), files };
}

/**
 * `loads` as refresh reports it: each file the running unit has not loaded gets a
 * {@link NOT_LOADED} note in place of its stamp, so its diff is the reload or restart
 * that loads it. Not loaded: changed after the unit's last reload (a `then: "restart"`
 * file: after its last start; whole seconds, so a write in the second of the reload
 * counts as loaded), or its check failed. A stopped unit is left alone (it is started
 * anyway), as is a missing file (RemoteFile writes it, which reloads).
 */
export function notLoaded(files: readonly LoadedFile[], active: boolean, o: ObservedLoads): LoadedFile[] {
  return files.map((f, i) => {
    const seen = o.files[i];
    if (!active || !seen || seen.mtime === undefined) return f;
    const since = f.then === "restart" ? o.startedAt : o.changedAt;
    const reason = !seen.checked ? "the running state differs from the file"
      : since === undefined || seen.mtime > since ? `changed after the last ${f.then}` : undefined;
    return reason ? { ...f, written: `${NOT_LOADED}: ${reason}` } : f;
  });
}


/**
 * What changed between the recorded and the desired inputs. A unit the last refresh found
 * stopped is restarted, not just started: whatever stopped it (a rebuilt server, a
 * package reinstall) may have started it again since with the package's own config.
 */
export function changes(olds: ServiceState | undefined, news: ServiceState) {
  const files = fileChanges(olds, news);
  return {
    restart: !olds || !sameRecord(olds.restartOn, news.restartOn) || (olds.active === false && news.active) || files.restart,
    reload: !olds || !sameRecord(olds.reloadOn, news.reloadOn) || files.reload,
  };
}

/**
 * Which of reload and restart the loaded files call for: a file whose stamp differs from
 * the recorded one (written since, or marked not loaded by refresh), or a file the unit
 * did not load before. State from older code has no `loads`: only a file written in this
 * run acts, not one that only got the upgrade's fixed stamp (so an upgrade reloads or
 * restarts nothing that was fine). While previewing, a stamp not known yet (the file is
 * about to be written) differs too.
 */
export function fileChanges(olds: ServiceState | undefined, news: ServiceState): { restart: boolean; reload: boolean } {
  const out: Record<LoadedFile["then"], boolean> = { restart: false, reload: false };
  if (!olds) return out;
  // Before the files are known (a preview of their first write), something will load.
  if (news.loads !== undefined && !Array.isArray(news.loads)) return { restart: false, reload: true };
  const recorded: readonly LoadedFile[] | undefined = Array.isArray(olds.loads) ? olds.loads : undefined;
  for (const f of (news.loads ?? []) as readonly LoadedFile[]) {
    // Older state: only a file written in this run (not the fixed stamp of the upgrade) acts.
    const acts = recorded ? recorded.find((x) => x.path === f.path)?.written !== f.written || !recorded.some((x) => x.path === f.path)
      : f.written !== undefined && f.written !== UNTRACKED;
    if (acts) out[f.then] = true;
  }
  return out;
}

/** Whether the recorded `loads` lack what the program declares (paths, actions, checks), stamps aside. */
function loadsDeclared(olds: ServiceState, news: ServiceState): boolean {
  const shape = (l: unknown) => (Array.isArray(l) ? l.map((f: LoadedFile) => ({ path: f.path, then: f.then, check: f.check ?? "" })) : l);
  return JSON.stringify(shape(olds.loads ?? [])) === JSON.stringify(shape(news.loads ?? []));
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
  // A masked unit (someone ran `systemctl mask`) refuses enable and start.
  if (observed.masked && (desired.enabled || desired.active)) steps.push(`systemctl unmask ${u}`);
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
function readiness(desired: ServiceState, acted: "started" | "reloaded" | "untouched"): string[] {
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
      || olds.active !== news.active || olds.schema !== news.schema || !loadsDeclared(olds, news)
      || JSON.stringify(olds.connection) !== JSON.stringify(news.connection),
    replaces,
    deleteBeforeReplace: true,
  };
}

export async function update(_id: string, olds: ServiceState, news: ServiceState) {
  await converge(olds, news);
  return { outs: news };
}

/**
 * The unit as it is: enabled, active, and which of its files the running process has
 * not loaded (in the same round trip; only refresh pays for those reads).
 */
export async function read(id: string, props: ServiceState) {
  const files = Array.isArray(props.loads) ? props.loads : [];
  const stdout = (await run(props.connection, probeScript(props.unit, files), { step: `probe ${props.unit}` })).stdout;
  const observed = parseProbe(stdout);
  const loads = files.length > 0 ? { loads: notLoaded(files, observed.active, parseLoads(stdout)) } : {};
  return { id, props: { ...props, enabled: observed.enabled, active: observed.active, ...loads } };
}

export async function delete_(_id: string, props: ServiceState) {
  if (props.stopOnDelete === false) return;
  await run(props.connection, script(
    `u=${cmd(props.unit)}`,
    `if systemctl cat "$u" >/dev/null 2>&1; then systemctl disable --now "$u" || true; fi`,
  ), { step: `stop ${props.unit}` });
}
export { delete_ as delete };
