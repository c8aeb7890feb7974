/**
 * Cache: the apps' shared memcached on the cache host, bound to the private network, which
 * the firewall limits to the app and worker hosts. memcached has no authentication, so
 * apps sharing it are kept apart by key prefix only (README "Not isolated yet"). A Redis
 * cache is each app's own server (services/redis/redisServer.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderMemcachedConf } from "./memcached.ts";
import type { Host } from "../../components/host.ts";
import { listenAddresses } from "../../plan/listen.ts";

export interface CacheArgs {
  /** The cache host. */
  readonly host: Host;
  /** Hosts that connect (app, worker, beat). */
  readonly clients: readonly HostPlan[];
}

export class Cache extends pulumi.ComponentResource {
  /** Resources clients must wait for. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: CacheArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:Cache", name, {}, opts);
    const h = args.host;
    const bind = listenAddresses(h.plan, args.clients);
    const conf = renderMemcachedConf({ listenAddresses: bind });
    const file = h.file(`${name}-conf`, { path: "/etc/memcached.conf", content: conf }, { parent: this });
    this.ready = [h.service(`${name}-service`, {
      unit: "memcached.service", stopOnDelete: false,
      restartOn: { "memcached.conf": shortHash(conf) },
      loads: [{ file, then: "restart" }],
      readyCheck: { port: 11211 },
    }, { parent: this, dependsOn: [file] })];
    this.registerOutputs({});
  }
}
