/**
 * Every host's firewall, before its packages and any step that listens or connects: all
 * later steps on a host wait for it (through host.ready), and steps that reach another host
 * wait for that host's, through their dependencies. Then each host's packages, one apt run.
 */
import { openingsFor } from "../config/firewall.ts";
import type { Preflight } from "../lib/preflight.ts";
import { Firewall } from "../services/nftables/firewall.ts";
import { hostOf, type Hosts } from "./hosts.ts";

export function installFirewalls({ cfg, topo }: Preflight, hosts: Hosts): void {
  for (const plan of topo.hosts) {
    const h = hostOf(hosts, plan.name);
    h.addReady(new Firewall(`${plan.name}-firewall`, { host: h, openings: openingsFor(plan, topo, cfg) }).service);
    h.installPackages();
  }
}
