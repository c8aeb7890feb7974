/**
 * The Celery broker and the shared cache, and who shares which password: the Redis
 * broker's password is the fleet's (one server; RabbitMQ accounts are each app's), and a
 * Redis cache on the broker's Redis shares it, while a Redis of its own gets its own.
 */
import type { Input } from "@pulumi/pulumi";
import { cacheUsesBrokerRedis } from "../config/environment.ts";
import type { Preflight } from "../lib/preflight.ts";
import { RandomSecret } from "../providers/randomSecret.ts";
import { Cache } from "../services/memcached/cache.ts";
import { Broker } from "../services/rabbitmq/broker.ts";
import { hostOf, type Hosts } from "./hosts.ts";

export interface BrokerAndCache {
  readonly broker: Broker;
  /** The Redis broker's password, with a Redis broker. */
  readonly redisBrokerPassword: Input<string> | undefined;
  /** The cache, unless `cache.kind` is "none" or no host has the cache role. */
  readonly cache: Cache | undefined;
  /** The Redis cache's password, with a Redis cache. */
  readonly cachePassword: Input<string> | undefined;
}

export function brokerAndCache({ cfg, topo }: Preflight, hosts: Hosts): BrokerAndCache {
  const brokerPassword = cfg.broker.kind === "redis" ? new RandomSecret("broker-password", { length: 32 }) : undefined;
  const broker = new Broker("broker", {
    host: hostOf(hosts, topo.broker.name), kind: cfg.broker.kind, clients: topo.codeHosts, password: brokerPassword?.value ?? "",
  });
  const shared = topo.cache !== undefined && cacheUsesBrokerRedis(topo.cache, cfg);
  const cachePassword = cfg.cache.kind !== "redis" ? undefined
    : shared ? brokerPassword! : new RandomSecret("cache-password", { length: 32 });
  const cache = topo.cache && cfg.cache.kind !== "none" ? new Cache("cache", {
    host: hostOf(hosts, topo.cache.name), kind: cfg.cache.kind, clients: topo.codeHosts,
    password: cachePassword?.value, sharedWithBroker: shared,
  }) : undefined;
  return { broker, redisBrokerPassword: brokerPassword?.value, cache, cachePassword: cachePassword?.value };
}
