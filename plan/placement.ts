/**
 * Which host does what for an app, beyond its roles: where its migrations run, whether a
 * load balancer of its own gets a copy of its static files, and which hosts need the
 * object stores' CA. Pure: the topology in, host names and file lists out.
 */
import type { AppDeployment, HostPlan, Topology } from "../config/topology.ts";

/**
 * The host that runs an app's migrations, once per release: its first app host, else
 * (no app host: a worker-only app) its first code host.
 */
export function migratorOf(d: AppDeployment): HostPlan {
  return d.appHosts[0] ?? d.codeHosts[0]!;
}

/** Whether a host runs some of an app's code (its app, worker or beat host). */
export function runsCodeOf(d: AppDeployment, host: HostPlan): boolean {
  return d.codeHosts.some((h) => h.name === host.name);
}

/**
 * The load balancer, when it runs none of an app's code: it gets a copy of the app's
 * collected static files (from the migrator) and never the code, env file or virtualenv.
 * Undefined without a load balancer, or when it runs the app's code itself.
 */
export function staticCopyHostOf(d: AppDeployment, topo: Pick<Topology, "loadBalancer">): HostPlan | undefined {
  const lb = topo.loadBalancer;
  return lb && !runsCodeOf(d, lb) ? lb : undefined;
}

/** The CA files a private object store is signed with, as the config names them. */
export interface ObjectStoreCaFiles {
  /** `backup.target.caFile`. @default none */
  readonly backup?: string | undefined;
  /** `media.target.caFile` (or the backup store's, shared). @default none */
  readonly media?: string | undefined;
}

/**
 * The hosts that need an object store's CA, each with the CA files its bundle holds (in
 * this order, once each): the database host, for backups; every host running some app's
 * code, for media (a load balancer of its own runs none and needs none). Hosts that need
 * none are absent. In the topology's order: the database host first.
 */
export function objectStoreCaHosts(topo: Pick<Topology, "db" | "codeHosts">, cas: ObjectStoreCaFiles): Map<string, string[]> {
  const on = new Map<string, string[]>();
  const need = (host: string, file: string | undefined) => {
    if (!file) return;
    const files = on.get(host) ?? [];
    if (!files.includes(file)) files.push(file);
    on.set(host, files);
  };
  need(topo.db.name, cas.backup);
  for (const h of topo.codeHosts) need(h.name, cas.media);
  return on;
}
