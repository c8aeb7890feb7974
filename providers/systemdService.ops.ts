/**
 * Operations of the SystemdService provider: a unit's enabled/active state, plus the
 * restart or reload its changed inputs call for. Refresh reads the real state, so a
 * service someone stopped shows as drift and the next `up` starts it again.
 */
import { cmd, script } from "../lib/shell.ts";
import { run } from "./ssh.ts";
import { parseLoads, notLoaded, parseProbe, probeScript } from "./systemdService.probe.ts";
import { changes, loadsDeclared, plan } from "./systemdService.plan.ts";
import type { ServiceState } from "./systemdService.state.ts";

// The state, probe, plan and readiness parts, each in its own file; re-exported so the
// provider's operations stay one module to import.
export type { LoadedFile, ReadyCheck, ServiceState } from "./systemdService.state.ts";
export { NOT_LOADED, notLoaded, parseLoads, parseProbe, probeScript, type ObservedLoads, type ObservedService } from "./systemdService.probe.ts";
export { changes, fileChanges, plan } from "./systemdService.plan.ts";
export { READY_TIMEOUT_SECONDS, SETTLE_STEPS } from "./systemdService.ready.ts";

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
