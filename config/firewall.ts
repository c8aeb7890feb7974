/**
 * Which ports each host opens, and to whom, from its roles. Pure. Everything not listed
 * here is dropped by the host's firewall (services/nftables/nftables.ts), so the database port,
 * for instance, answers only the app, worker and beat hosts.
 */
import type { StackConfig } from "./schema.ts";
import { cachePort, cacheUsesBrokerRedis } from "./environment.ts";
import type { HostPlan, Topology } from "./topology.ts";

/** One opening: a TCP port, from these source addresses (empty: from anywhere). */
export interface Opening {
  readonly port: number;
  readonly from: readonly string[];
  /** Why it is open, written next to the rule. */
  readonly why: string;
}

function addrs(hosts: readonly HostPlan[], except: HostPlan): string[] {
  // Traffic a host sends to itself arrives on loopback, which is always accepted.
  return [...new Set(hosts.filter((h) => h.name !== except.name).map((h) => h.privateAddress))].sort();
}

export function openingsFor(host: HostPlan, topo: Topology, cfg: StackConfig): Opening[] {
  const out: Opening[] = [{ port: host.port, from: [], why: "ssh" }];
  const r = host.roles;
  const code = topo.codeHosts;
  // Port 0: already open for another role on this host (a Redis shared by broker and cache).
  const add = (port: number, from: string[], why: string) => { if (from.length && port) out.push({ port, from, why }); };
  if (r.has("loadBalancer")) {
    out.push({ port: 80, from: [], why: "http" });
    if (cfg.loadBalancer.tls !== "none") out.push({ port: 443, from: [], why: "https" });
  }
  if (topo.loadBalancer) {
    for (const d of topo.deployments.filter((d) => d.appHosts.some((h) => h.name === host.name))) {
      add(d.app.port, addrs([topo.loadBalancer], host), `gunicorn of ${d.app.name}, from the load balancer`);
    }
  }
  if (r.has("db")) {
    add(cfg.database.port, addrs([...code, ...topo.dbReplicas], host), `${cfg.database.engine}, from app/worker hosts and replicas`);
  }
  if (r.has("dbReplica")) add(cfg.database.port, addrs(code, host), `${cfg.database.engine} (read-only), from app/worker hosts`);
  if (r.has("broker")) add(cfg.broker.kind === "rabbitmq" ? 5672 : 6379, addrs(code, host), `${cfg.broker.kind}, from app/worker hosts`);
  if (r.has("cache") && cfg.cache.kind !== "none") {
    add(cacheUsesBrokerRedis(host, cfg) ? 0 : cachePort(cfg), addrs(code, host), `${cfg.cache.kind} cache, from app/worker hosts`);
  }
  if (r.has("logging")) add(cfg.logging.port, addrs(topo.hosts, host), "rsyslog, from every host");
  return out;
}
