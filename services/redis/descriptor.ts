/**
 * Redis, as the Celery broker, the cache, or both: one server per app (redis-server@<app>),
 * which serves both when they share a host. Each app's port opens only to that app's
 * own code hosts, so another app's hosts cannot even reach it.
 */
import { runsAppRedis } from "../../config/environment.ts";
import type { ServiceDescriptor } from "../descriptor.ts";

export const redis: ServiceDescriptor = {
  name: "redis",
  runsOn: (roles, cfg) => runsAppRedis(roles, cfg),
  packages: ["redis-server"],
  // Each app's server logs to /var/log/redis/redis-server-<app>.log (services/redis/redis.ts).
  logs: [{ tag: "redis", file: "/var/log/redis/redis-server*.log" }],
  openings: ({ host, topo, cfg, from }) => !runsAppRedis(host.roles, cfg) ? [] : topo.deployments.map((d) => ({
    port: d.app.redisPort, from: from(d.codeHosts), why: `redis of ${d.app.name}, from its app/worker hosts`,
  })),
};
