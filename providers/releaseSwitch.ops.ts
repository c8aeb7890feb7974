/**
 * Operations of the ReleaseSwitch provider (see releaseSwitch.ts). The scripts are pure
 * builders in lib/releaseCurrent.ts, lib/healthGate.ts and lib/nginxDrain.ts; this module
 * only runs them in order on the node and on the load balancer, and turns a failed gate
 * into a rollback and a clear error.
 */
import { sameRecord } from "../lib/records.ts";
import { GATE_RESPONSE, healthGateScript } from "../lib/healthGate.ts";
import { drainScript, drainedProbe } from "../lib/nginxDrain.ts";
import { currentProbe, linkCommands, parseCurrent, pruneCommands, restartCommands, type CurrentLink } from "../lib/releaseCurrent.ts";
import { sideGateScript } from "../lib/sideGate.ts";
import { script } from "../lib/shell.ts";
import { run, type Connection } from "./ssh.ts";

export interface SwitchState {
  readonly connection: Connection;
  readonly app: string;
  readonly release: string;
  readonly unit: string;
  readonly restartOn?: Record<string, string>;
  readonly health: { readonly url: string; readonly hostHeader: string; readonly status?: number; readonly timeoutSeconds: number };
  readonly drain?: { readonly connection: Connection; readonly site: string; readonly server: string; readonly seconds: number };
  /** How to start a release beside the running one (the side gate); without it, no side gate. */
  readonly side?: { readonly envFile: string; readonly wsgiModule: string; readonly configFile: string };
  readonly keepReleases: number;
  /** false once a refresh found the node out of the load balancer. */
  readonly inService?: boolean;
  readonly schema?: number;
}

/** What an update must do: move the node (drain, link, restart, gate), or only put it back, or nothing on the host. */
export function switchPlan(olds: SwitchState | undefined, news: SwitchState, observedRelease: string): "switch" | "gate" | "undrain" | "none" {
  if (!olds) return observedRelease === news.release ? "gate" : "switch";
  if (olds.release !== news.release || observedRelease !== news.release || !sameRecord(olds.restartOn, news.restartOn)) return "switch";
  if (olds.inService === false) return "undrain";
  return "none";
}

/**
 * Whether the new release must pass its health check beside the running one before the
 * restart: yes when the node keeps taking traffic through the restart (it could not be
 * drained: the only node in rotation, or no load balancer) and a release runs there now.
 * A drained node is checked by the gate after its restart, with no request reaching it.
 */
export function sideGateWanted(drained: string, previous: string, hasSide: boolean): boolean {
  return hasSide && drained !== "drained" && previous !== "";
}

async function drain(s: SwitchState, out: boolean): Promise<string> {
  if (!s.drain) return "no load balancer";
  const r = await run(s.drain.connection, drainScript({ site: s.drain.site, server: s.drain.server }, out), { step: `${out ? "drain" : "undrain"} ${s.drain.server} (${s.app})` });
  return r.stdout.trim();
}

async function gate(s: SwitchState): Promise<{ ok: true } | { ok: false; detail: string }> {
  const r = await run(s.connection, healthGateScript({ unit: s.unit, ...s.health }), { step: `health check of ${s.app}`, allowFailure: true });
  if (r.code === 0) return { ok: true };
  if (r.code === 255) throw new Error(`health check of ${s.app} on ${s.connection.host}: ssh could not connect`);
  return { ok: false, detail: r.stdout.trim() || r.stderr.trim() };
}

async function sideGate(s: SwitchState): Promise<{ ok: true } | { ok: false; detail: string }> {
  const r = await run(s.connection, sideGateScript({ app: s.app, release: s.release, ...s.side!, ...s.health }), { step: `health check of ${s.app} ${s.release} beside the running release`, allowFailure: true });
  if (r.code === 0) return { ok: true };
  if (r.code === 255) throw new Error(`health check of ${s.app} on ${s.connection.host}: ssh could not connect`);
  return { ok: false, detail: r.stdout.trim() || r.stderr.trim() };
}

/** The error of a failed gate: what happened to the node, the last response, the journal. */
function gateError(s: SwitchState, detail: string, what: string, journalOf: string): Error {
  const lines = detail.split("\n");
  const response = lines.find((l) => l.startsWith(GATE_RESPONSE))?.slice(GATE_RESPONSE.length).trim() ?? "(no response recorded)";
  const journal = lines.filter((l) => !l.startsWith(GATE_RESPONSE)).slice(-15).join("\n");
  return new Error([
    `app node ${s.connection.host} (${s.app}) failed its health check on release ${s.release}; ${what}.`,
    "Later nodes were not switched. Fix the release and set the ref again.",
    `Last response: ${response}`,
    `Last lines of ${journalOf}'s journal:`,
    journal,
  ].join("\n"));
}

async function prune(s: SwitchState): Promise<void> {
  await run(s.connection, script(...pruneCommands(s.app, s.keepReleases)), { step: `prune ${s.app}'s releases` });
}

async function observed(s: SwitchState): Promise<CurrentLink> {
  return parseCurrent(s.app, (await run(s.connection, currentProbe(s.app), { step: `read ${s.app}'s current release` })).stdout);
}

/** The release id `current` resolves to, or "" (not a release: never a rollback target). */
function releaseOf(c: CurrentLink): string {
  return c.kind === "release" ? c.id : "";
}

/**
 * Moves the node onto `s.release` behind the gate. On a failed gate the node goes back to
 * the release it ran (if it ran one), back into the load balancer, and this throws.
 */
async function switchNode(s: SwitchState, previous: string): Promise<void> {
  const drained = await drain(s, true);
  if (drained === "drained" && s.drain) await new Promise((r) => setTimeout(r, s.drain!.seconds * 1000));
  if (sideGateWanted(drained, previous, !!s.side)) {
    // Nothing was touched yet: a release that fails here never serves a request.
    const side = await sideGate(s);
    if (!side.ok) {
      throw gateError(s, side.detail,
        `it was started beside the running release and checked there, so the node still runs release ${previous}, not restarted, and no request reached the new one`,
        "the release started beside it");
    }
  }
  await run(s.connection, script(...linkCommands(s.app, s.release), ...restartCommands(s.unit)), { step: `switch ${s.app} to ${s.release}` });
  const g = await gate(s);
  if (g.ok) {
    await drain(s, false);
    await prune(s);
    return;
  }
  let back = "it ran no earlier release, so it was left as it is";
  if (previous && previous !== s.release) {
    await run(s.connection, script(...linkCommands(s.app, previous), ...restartCommands(s.unit)), { step: `switch ${s.app} back to ${previous}` });
    const again = await gate(s);
    back = again.ok ? `it was switched back to release ${previous}, which passes the check` : `it was switched back to release ${previous}, which does not pass the check either`;
  }
  await drain(s, false);
  throw gateError(s, g.detail, `${back}, and it is back in the load balancer`, s.unit);
}

export async function create(inputs: SwitchState) {
  const current = releaseOf(await observed(inputs));
  const p = switchPlan(undefined, inputs, current);
  if (p === "switch") await switchNode(inputs, current);
  else {
    const g = await gate(inputs);
    if (!g.ok) throw new Error(`app node ${inputs.connection.host} (${inputs.app}) does not pass its health check on release ${inputs.release}:\n${g.detail}`);
    await prune(inputs);
  }
  return { id: `${inputs.connection.host}:${inputs.app}:release`, outs: { ...inputs, inService: true } };
}

export async function diff(_id: string, olds: SwitchState, news: SwitchState) {
  const replaces = olds.connection?.host !== news.connection?.host || olds.app !== news.app ? ["app"] : [];
  const changes = replaces.length > 0 || olds.release !== news.release || !sameRecord(olds.restartOn, news.restartOn)
    || olds.inService === false || olds.unit !== news.unit || olds.keepReleases !== news.keepReleases
    || olds.schema !== news.schema || JSON.stringify(olds.health) !== JSON.stringify(news.health)
    || JSON.stringify(olds.drain) !== JSON.stringify(news.drain) || JSON.stringify(olds.side) !== JSON.stringify(news.side)
    || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
  return { changes, replaces, deleteBeforeReplace: true };
}

export async function update(_id: string, olds: SwitchState, news: SwitchState) {
  const current = releaseOf(await observed(news));
  const p = switchPlan(olds, news, current);
  if (p === "switch") await switchNode(news, current);
  else if (p === "undrain") await drain(news, false);
  if (p === "none" && olds.keepReleases !== news.keepReleases) {
    await prune(news);
  }
  return { outs: { ...news, inService: true } };
}

/**
 * Where `current` resolves, and whether the node is in the load balancer. A link to
 * anything but a built release (another folder, a dangling target, no link) reads as
 * its description (`current -> /tmp`), so it differs from every release: drift.
 */
export async function read(id: string, props: SwitchState) {
  const c = await observed(props);
  const release = c.kind === "release" ? c.id : c.what;
  let inService = true;
  if (props.drain) {
    const r = await run(props.drain.connection, drainedProbe({ site: props.drain.site, server: props.drain.server }), { step: `read ${props.drain.server} in the load balancer` });
    inService = r.stdout.trim() !== "down";
  }
  return { id, props: { ...props, release, inService } };
}

/** Nothing on delete: the node's units and releases go with the app (AppNode, AppRelease). */
export async function delete_(_id: string, _props: SwitchState) {
  return;
}
export { delete_ as delete };
