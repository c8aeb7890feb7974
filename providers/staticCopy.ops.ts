/**
 * Operations of the StaticCopy provider: pack on the app host, unpack on the load
 * balancer (lib/staticCopy.ts has the scripts). The archive passes through this process
 * as base64 text, so its size is bounded by memory: collected static files are megabytes.
 */
import { sameRecord } from "../lib/records.ts";
import { digestScript, packScript, parseDigest, removeCopiesScript, unpackScript } from "../lib/staticCopy.ts";
import { run, type Connection } from "./ssh.ts";

export interface CopyState {
  readonly from: Connection;
  readonly to: Connection;
  readonly app: string;
  readonly release: string;
  readonly staticRoot: string | null;
  readonly triggers?: Record<string, string>;
  /** The digest of the copy as written. */
  readonly digest?: string;
  /** false once a refresh found the copy missing or changed. */
  readonly inSync?: boolean;
  readonly schema?: number;
}

async function copy(s: CopyState): Promise<CopyState> {
  const what = `static files of ${s.app} (release ${s.release})`;
  const packed = await run(s.from, packScript(s.app, s.staticRoot), { step: `read the ${what}` });
  const written = await run(s.to, unpackScript(s.app, s.release, packed.stdout.trim()), { step: `copy the ${what} to the load balancer` });
  const digest = parseDigest(written.stdout);
  if (!digest) throw new Error(`copy the ${what} to ${s.to.host}: no digest printed`);
  return { ...s, digest, inSync: true };
}

export async function create(inputs: CopyState) {
  const outs = await copy(inputs);
  return { id: `${inputs.to.host}:static:${inputs.app}`, outs };
}

/** Whether the copy must be made again. */
function stale(olds: CopyState, news: CopyState): boolean {
  return olds.from?.host !== news.from?.host || olds.app !== news.app || olds.release !== news.release
    || olds.staticRoot !== news.staticRoot || olds.inSync !== news.inSync || olds.schema !== news.schema
    || !sameRecord(olds.triggers, news.triggers);
}

export async function diff(_id: string, olds: CopyState, news: CopyState) {
  // Another load balancer (or app): a new copy there, the old one removed from its host.
  const replaces = olds.to?.host !== news.to?.host || olds.app !== news.app ? ["to"] : [];
  const changes = replaces.length > 0 || stale(olds, news)
    || JSON.stringify([olds.from, olds.to]) !== JSON.stringify([news.from, news.to]);
  return { changes, replaces, deleteBeforeReplace: false };
}

export async function update(_id: string, olds: CopyState, news: CopyState) {
  if (stale(olds, news)) return { outs: await copy(news) };
  return { outs: { ...news, digest: olds.digest, inSync: true } };
}

/** Refresh: the served copy must be the release's, with the digest it was written with. */
export async function read(id: string, props: CopyState) {
  const r = await run(props.to, digestScript(props.app, props.release), { step: `check the static files of ${props.app}`, allowFailure: true });
  if (r.code === 255) throw new Error(`check the static files of ${props.app} on ${props.to.host}: ssh could not connect`);
  const digest = r.code === 0 ? parseDigest(r.stdout) : undefined;
  return { id, props: { ...props, inSync: digest !== undefined && digest === props.digest } };
}

export async function delete_(_id: string, props: CopyState) {
  await run(props.to, removeCopiesScript(props.app), { step: `remove the static files of ${props.app}` });
}
export { delete_ as delete };
