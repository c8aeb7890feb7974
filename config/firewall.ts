/**
 * Which ports each host opens, and to whom: ssh, then what each service that runs there
 * opens (services/<service>/descriptor.ts). Pure. Everything not listed here is dropped
 * by the host's firewall (services/nftables/nftables.ts), so the database port, for
 * instance, answers only the app, worker and beat hosts.
 */
import type { StackConfig } from "./schema.ts";
import type { HostPlan, Topology } from "./topology.ts";
import type { FirewallContext, Opening } from "../services/descriptor.ts";
import { servicesOn } from "../services/index.ts";

export type { Opening };

function addrs(hosts: readonly HostPlan[], except: HostPlan): string[] {
  // Traffic a host sends to itself arrives on loopback, which is always accepted.
  return [...new Set(hosts.filter((h) => h.name !== except.name).map((h) => h.privateAddress))].sort();
}

export function openingsFor(host: HostPlan, topo: Topology, cfg: StackConfig): Opening[] {
  const ctx: FirewallContext = { host, topo, cfg, from: (hosts) => addrs(hosts, host) };
  const opened = servicesOn(host.roles, cfg).flatMap((s) => s.openings?.(ctx) ?? [])
    // Public openings have no source list. A private one with no source (every client is
    // this host) is not needed, and port 0 is another role's opening of the same server.
    .filter((o) => o.public || (o.from.length > 0 && o.port !== 0));
  return [{ port: host.port, from: [], why: "ssh" }, ...opened.map(({ port, from, why }) => ({ port, from, why }))];
}
