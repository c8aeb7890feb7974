/**
 * Operations of the RemoteProbe provider: run a read-only script, keep what it printed
 * after `FLEET_FACT=` as the resource's value. Creating and updating only read; deleting
 * does nothing (a fact has nothing on the host to remove).
 */
import { sameRecord } from "../lib/records.ts";
import { run, type Connection } from "./ssh.ts";

export interface ProbeState {
  readonly connection: Connection;
  readonly probe: string;
  readonly triggers?: Record<string, string>;
  readonly description?: string;
  readonly value?: unknown;
  /** A refresh could not read the fact (a rebuilt, bare host): the next `up` reads it again. */
  readonly stale?: boolean;
  readonly schema?: number;
}

const MARKER = "FLEET_FACT=";

/** The value on the last `FLEET_FACT=` line of a probe's output. Pure. */
export function parseFact(stdout: string): unknown {
  const line = stdout.split("\n").reverse().find((l) => l.startsWith(MARKER));
  if (line === undefined) throw new Error(`the probe printed no ${MARKER} line`);
  return JSON.parse(line.slice(MARKER.length));
}

async function probe(s: ProbeState): Promise<unknown> {
  const r = await run(s.connection, s.probe, { step: `read ${s.description ?? "fact"}` });
  return parsed(s, r.stdout);
}

function parsed(s: ProbeState, stdout: string): unknown {
  try {
    return parseFact(stdout);
  } catch (e) {
    throw new Error(`read ${s.description ?? "fact"} on ${s.connection.host}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export async function create(inputs: ProbeState) {
  const value = await probe(inputs);
  return { id: `${inputs.connection.host}:${inputs.description ?? "fact"}`, outs: { ...inputs, value, stale: false } };
}

/** Read again when the script or a trigger changed; a new key or address alone is not a reason. */
function mustRead(olds: ProbeState, news: ProbeState): boolean {
  return olds.stale === true || olds.probe !== news.probe || olds.schema !== news.schema || !sameRecord(olds.triggers, news.triggers);
}

export async function diff(_id: string, olds: ProbeState, news: ProbeState) {
  const replaces = olds.connection?.host !== news.connection?.host ? ["connection"] : [];
  const changes = replaces.length > 0 || mustRead(olds, news) || JSON.stringify(olds.connection) !== JSON.stringify(news.connection);
  // The value is only known once read: say so, so dependants preview as changing.
  return { changes, replaces, stables: mustRead(olds, news) ? [] : ["value"], deleteBeforeReplace: true };
}

export async function update(_id: string, olds: ProbeState, news: ProbeState) {
  return { outs: { ...news, value: mustRead(olds, news) ? await probe(news) : olds.value, stale: false } };
}

/**
 * Refresh reads the fact again. A host where the probe cannot run (rebuilt bare: no
 * virtualenv yet) keeps the last value, marked stale, so refresh succeeds and the next
 * `up` rebuilds what the probe needs and reads it then.
 */
export async function read(id: string, props: ProbeState) {
  const r = await run(props.connection, props.probe, { step: `read ${props.description ?? "fact"}`, allowFailure: true });
  if (r.code === 255) throw new Error(`read ${props.description ?? "fact"} on ${props.connection.host}: ssh could not connect`);
  if (r.code !== 0) return { id, props: { ...props, stale: true } };
  try {
    return { id, props: { ...props, value: parseFact(r.stdout), stale: false } };
  } catch {
    return { id, props: { ...props, stale: true } };
  }
}
