/**
 * A private object store's CA, where its clients run: the database host (backups) and the
 * hosts running an app's code (media; a load balancer of its own runs none and needs none). One bundle per host, both
 * CAs if they differ. Later steps on the host wait for it (Host.addReady).
 */
import { readFileSync } from "node:fs";
import { HOST_CA_FILE } from "../config/objectStore.ts";
import type { Preflight } from "../lib/preflight.ts";
import { objectStoreCaHosts } from "../plan/placement.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { hostOf, type Hosts } from "./hosts.ts";

export function installObjectStoreCas({ topo, backupTarget, mediaTarget }: Preflight, hosts: Hosts): void {
  const caOn = objectStoreCaHosts(topo, { backup: backupTarget?.caFile, media: mediaTarget?.caFile });
  for (const [name, files] of caOn) {
    const h = hostOf(hosts, name);
    h.addReady(new RemoteFile(`${name}-object-store-ca`, {
      connection: h.connection, path: HOST_CA_FILE, mode: "0644",
      content: [...files].map((f) => readFileSync(f, "utf8").trimEnd() + "\n").join(""),
    }, { dependsOn: h.ready }));
  }
}
