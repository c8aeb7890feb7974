/**
 * A private object store's CA, where its clients run: the database host (backups) and the
 * hosts running an app's code (media; a load balancer of its own runs none and needs none).
 * One bundle per host, both CAs if they differ. The Host writes it as part of its baseline,
 * before its firewall, so every later step on the host has it.
 */
import { readFileSync } from "node:fs";
import type { Preflight } from "../lib/preflight.ts";
import { objectStoreCaHosts } from "../plan/placement.ts";

/** The CA bundle each host needs, by host name; a host that needs none is absent. */
export function objectStoreCas({ topo, backupTarget, mediaTarget }: Preflight): ReadonlyMap<string, string> {
  const caOn = objectStoreCaHosts(topo, { backup: backupTarget?.caFile, media: mediaTarget?.caFile });
  return new Map([...caOn].map(([name, files]) =>
    [name, files.map((f) => readFileSync(f, "utf8").trimEnd() + "\n").join("")] as const));
}
