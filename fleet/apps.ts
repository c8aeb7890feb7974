/**
 * Each app (DjangoApp): its secrets, database, broker account, code, migration, nodes and
 * Celery, on the shared services.
 */
import { DjangoApp } from "../components/djangoApp.ts";
import type { Preflight } from "../lib/preflight.ts";
import type { BrokerAndCache } from "./brokerAndCache.ts";
import type { DatabaseTier } from "./database.ts";
import type { Hosts } from "./hosts.ts";

export function djangoApps(pre: Preflight, hosts: Hosts, database: DatabaseTier, services: BrokerAndCache): DjangoApp[] {
  const { cfg, topo, code, mediaTarget, backupTarget } = pre;
  return code.map(({ d, commit, project }) => new DjangoApp(d.app.name, {
    deployment: d, config: cfg, topology: topo, hosts, commit, project,
    shared: {
      db: database.server, broker: services.broker,
      cacheReady: services.cache?.ready ?? [], redisHosts: services.redisHosts,
      media: mediaTarget, backup: backupTarget && { store: backupTarget, databaseKey: database.backupKey! },
    },
  }));
}
