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
  readonly schema?: number;
}

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
 * that should be active is checked to still be active a moment later, with its journal
 * shown when it is not, so a crash-looping app fails the run instead of hiding.
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
  if (desired.active) {
    if (!observed.active) steps.push(orJournal(`systemctl start ${u}`));
    else if (change.restart) steps.push(orJournal(`systemctl restart ${u}`));
    else if (change.reload) steps.push(orJournal(`systemctl reload-or-restart ${u}`));
  } else if (observed.active) {
    steps.push(`systemctl stop ${u}`);
  }
  if (steps.length === 0) return "";
  if (desired.active) {
    // Watched for a few seconds: a service that dies on start (bad credentials, a broken
    // release) is restarted by systemd and would otherwise look fine at a single glance.
    steps.push(
      // NRestarts counts automatic restarts since the last start we asked for.
      // (Services only: a timer or socket has no NRestarts.)
      `for _ in 1 2 3 4 5; do sleep 1; if ! systemctl is-active --quiet ${u}${started && desired.unit.endsWith(".service") ? ` || [ "$(systemctl show -p NRestarts --value ${u})" != 0 ]` : ""}; then`,
      `  echo "${desired.unit} did not stay running:" >&2; journalctl -u ${u} -n 25 --no-pager -o cat >&2; exit 1`,
      "fi; done",
    );
  }
  return script(...steps);
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
