/**
 * One record per app on the database host: how a later run knows an app was removed
 * (config/appRecords.ts reads them back).
 */
import { appRecord, appRecordPath } from "../config/appRecords.ts";
import type { Preflight } from "../lib/preflight.ts";
import { hostOf, type Hosts } from "./hosts.ts";

export function writeAppRecords({ topo }: Preflight, hosts: Hosts): void {
  for (const d of topo.deployments) {
    const h = hostOf(hosts, topo.db.name);
    h.file(`${d.app.name}-app-record`, { path: appRecordPath(d.app.name), content: appRecord(d.app) });
  }
}
