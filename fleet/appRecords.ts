/**
 * One record per app on the database host: how a later run knows an app was removed
 * (config/appRecords.ts reads them back).
 */
import { appRecord, appRecordPath } from "../config/appRecords.ts";
import type { Preflight } from "../lib/preflight.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { hostOf, type Hosts } from "./hosts.ts";

export function writeAppRecords({ topo }: Preflight, hosts: Hosts): void {
  for (const d of topo.deployments) {
    const h = hostOf(hosts, topo.db.name);
    new RemoteFile(`${d.app.name}-app-record`, {
      connection: h.connection, path: appRecordPath(d.app.name), content: appRecord(d.app),
    }, { dependsOn: h.ready });
  }
}
