/**
 * Redis, as the Celery broker, the cache, or both: one server serves both when they share
 * a host, so it is installed, logged and opened once.
 */
import { cachePort, cacheUsesBrokerRedis } from "../../config/environment.ts";
import type { ServiceDescriptor } from "../descriptor.ts";

export const redis: ServiceDescriptor = {
  name: "redis",
  runsOn: (roles, cfg) => (roles.has("broker") && cfg.broker.kind === "redis") || (roles.has("cache") && cfg.cache.kind === "redis"),
  packages: ["redis-server"],
  // Debian's redis.conf: `logfile /var/log/redis/redis-server.log`; `redis-server-<name>.log` for extra instances.
  logs: [{ tag: "redis", file: "/var/log/redis/redis-server*.log" }],
  openings: ({ host, topo, cfg, from }) => [
    ...(host.roles.has("broker") && cfg.broker.kind === "redis" ? [{ port: 6379, from: from(topo.codeHosts), why: "redis, from app/worker hosts" }] : []),
    // Port 0: the broker's opening above is this server's already.
    ...(host.roles.has("cache") && cfg.cache.kind === "redis"
      ? [{ port: cacheUsesBrokerRedis(host, cfg) ? 0 : cachePort(cfg), from: from(topo.codeHosts), why: "redis cache, from app/worker hosts" }] : []),
  ],
};
