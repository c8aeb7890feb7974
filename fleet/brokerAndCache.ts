/**
 * The Celery broker and the cache. RabbitMQ accounts are each app's (made by the app);
 * with Redis, each app gets a server of its own (made by the app, with its own password),
 * and here each Redis host only gets Debian's shared default server stopped. memcached is
 * one server for all apps, kept apart by key prefix only: the preview says so when two or
 * more apps share it.
 */
import * as pulumi from "@pulumi/pulumi";
import { runsAppRedis } from "../config/environment.ts";
import type { Preflight } from "../lib/preflight.ts";
import { Cache } from "../services/memcached/cache.ts";
import { sharedMemcachedWarning } from "../services/memcached/memcached.ts";
import { Broker } from "../services/rabbitmq/broker.ts";
import { redisDefaultOff } from "../services/redis/redisServer.ts";
import { hostOf, type Hosts } from "./hosts.ts";

export interface BrokerAndCache {
  readonly broker: Broker;
  /** The shared memcached, with `cache.kind` memcached and a cache host. */
  readonly cache: Cache | undefined;
  /** The hosts that run the apps' Redis servers, each with what those servers wait for. */
  readonly redisHosts: ReadonlyMap<string, pulumi.Resource>;
}

export function brokerAndCache({ cfg, topo }: Preflight, hosts: Hosts): BrokerAndCache {
  const broker = new Broker("broker", { host: hostOf(hosts, topo.broker.name), kind: cfg.broker.kind, clients: topo.codeHosts });
  const cache = topo.cache && cfg.cache.kind === "memcached" ? new Cache("cache", {
    host: hostOf(hosts, topo.cache.name), clients: topo.codeHosts,
  }) : undefined;
  if (cache) {
    const warning = sharedMemcachedWarning(topo.deployments.map((d) => d.app.name));
    if (warning) pulumi.log.warn(warning);
  }
  const redisHosts = new Map(topo.hosts.filter((h) => runsAppRedis(h.roles, cfg))
    .map((h) => [h.name, redisDefaultOff(`${h.name}-redis-default-off`, hostOf(hosts, h.name))] as const));
  return { broker, cache, redisHosts };
}
