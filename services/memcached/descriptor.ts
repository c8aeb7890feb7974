/** memcached, the app's shared cache (private network only). */
import { cachePort } from "../../config/environment.ts";
import type { ServiceDescriptor } from "../descriptor.ts";

export const memcached: ServiceDescriptor = {
  name: "memcached",
  runsOn: (roles, cfg) => roles.has("cache") && cfg.cache.kind === "memcached",
  packages: ["memcached"],
  // Debian's systemd-memcached-wrapper drops a `logfile` line from /etc/memcached.conf
  // ("systemd capture stdout by default"), and ours has none: its log is the journal's.
  logs: [],
  openings: ({ topo, cfg, from }) => [{ port: cachePort(cfg), from: from(topo.codeHosts), why: "memcached cache, from app/worker hosts" }],
};
