/**
 * Cache: the app's shared cache on the cache host: memcached (bound to the private
 * network, which the firewall limits to the app and worker hosts) or a password-protected
 * Redis, which is the broker's own server when both are Redis on one host.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderMemcachedConf } from "./memcached.ts";
import { RemoteFile } from "../../providers/remoteFile.ts";
import { SystemdService } from "../../providers/systemdService.ts";
import type { Host } from "../../components/host.ts";
import { redisServer } from "../redis/redisServer.ts";

export interface CacheArgs {
  /** The cache host. */
  readonly host: Host;
  /** "redis" or "memcached". */
  readonly kind: "redis" | "memcached";
  /** Hosts that connect (app, worker, beat). */
  readonly clients: readonly HostPlan[];
  /** Redis: the password (secret). */
  readonly password?: pulumi.Input<string>;
  /** Redis: the broker's Redis on this host serves the cache too (nothing to add). */
  readonly sharedWithBroker?: boolean;
}

export class Cache extends pulumi.ComponentResource {
  /** Resources clients must wait for. */
  public readonly ready: pulumi.Resource[];

  constructor(name: string, args: CacheArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:Cache", name, {}, opts);
    const h = args.host;
    const bind = args.clients.some((c) => c.name !== h.plan.name) ? ["127.0.0.1", h.plan.privateAddress] : ["127.0.0.1"];
    if (args.kind === "memcached") {
      const conf = renderMemcachedConf({ listenAddresses: bind });
      const file = new RemoteFile(`${name}-conf`, { connection: h.connection, path: "/etc/memcached.conf", content: conf }, { parent: this, dependsOn: h.ready });
      this.ready = [new SystemdService(`${name}-service`, {
        connection: h.connection, unit: "memcached.service", stopOnDelete: false,
        restartOn: { "memcached.conf": shortHash(conf) },
        loads: [{ file, then: "restart" }],
        readyCheck: { port: 11211 },
      }, { parent: this, dependsOn: [file] })];
    } else if (args.sharedWithBroker) {
      this.ready = [];
    } else {
      this.ready = [redisServer(name, this, h, bind, args.password ?? "")];
    }
    this.registerOutputs({});
  }
}
