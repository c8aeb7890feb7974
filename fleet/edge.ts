/**
 * What stands beside the apps: the load balancer (each app's site, once its nodes serve)
 * and the central log server every host ships to.
 */
import { readFileSync } from "node:fs";
import type { DjangoApp } from "../components/djangoApp.ts";
import type { Preflight } from "../lib/preflight.ts";
import { LoadBalancer } from "../services/nginx/loadBalancer.ts";
import { LoggingServer } from "../services/rsyslog/loggingServer.ts";
import { hostOf, type Hosts } from "./hosts.ts";

/** The load balancer, with a host that has the role. */
export function loadBalancer({ cfg, topo }: Preflight, hosts: Hosts, apps: readonly DjangoApp[]): LoadBalancer | undefined {
  return topo.loadBalancer && new LoadBalancer("lb", {
    host: hostOf(hosts, topo.loadBalancer.name), config: cfg,
    sites: apps.map((a) => a.site!),
    after: apps.flatMap((a) => a.siteReady),
    ...(cfg.loadBalancer.acme?.caFile ? { acmeCaPem: readFileSync(cfg.loadBalancer.acme.caFile, "utf8") } : {}),
  });
}

/** The log server, with a host that has the role. */
export function loggingServer({ cfg, topo }: Preflight, hosts: Hosts): LoggingServer | undefined {
  return topo.logging && new LoggingServer("logging", {
    host: hostOf(hosts, topo.logging.name), hosts: [...hosts.values()],
    port: cfg.logging.port, retentionDays: cfg.logging.retentionDays, config: cfg,
  });
}
