/**
 * Broker: the Celery broker on the broker host, with the app's own credentials:
 * RabbitMQ (a vhost and user for the app) or Redis (each app's own server, made by the
 * app: services/redis/redisServer.ts). Bound to the private network when other hosts
 * connect, to loopback otherwise.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { BROKER_PASSWORD_VAR, rabbitAccountCheck, rabbitAccountRead, rabbitAccountState, rabbitAccountCreate, rabbitAccountDelete } from "../../lib/rabbitAccount.ts";
import type { Host } from "../../components/host.ts";
import { RABBITMQ_FILES } from "../../plan/files.ts";
import { listenAddresses } from "../../plan/listen.ts";
import { renderRabbitmqConf } from "./rabbitmq.ts";

export interface BrokerArgs {
  /** The broker host. */
  readonly host: Host;
  /** "rabbitmq" or "redis". */
  readonly kind: "rabbitmq" | "redis";
  /** Hosts that connect (worker, beat and app hosts). */
  readonly clients: readonly HostPlan[];
}

export class Broker extends pulumi.ComponentResource {
  /** Address clients on other hosts use. */
  public readonly address: string;
  /** Broker port: RabbitMQ's, or 0 with Redis (each app's server has its own port). */
  public readonly port: number;
  /** Resources clients must wait for (each app also waits for its own account). */
  public readonly ready: pulumi.Resource[];
  private service: pulumi.Resource | undefined;
  private readonly host: Host;
  private readonly componentName: string;

  constructor(name: string, args: BrokerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:Broker", name, {}, opts);
    const h = this.host = args.host;
    this.componentName = name;
    const bind = listenAddresses(h.plan, args.clients);
    this.address = h.plan.privateAddress;

    if (args.kind === "rabbitmq") {
      this.port = RABBITMQ_FILES.port;
      const conf = renderRabbitmqConf({ listenAddresses: bind, port: this.port });
      const confFile = h.file(`${name}-conf`, { path: RABBITMQ_FILES.conf, content: conf }, { parent: this });
      const service = h.service(`${name}-service`, {
        unit: RABBITMQ_FILES.unit, stopOnDelete: false,
        restartOn: { "rabbitmq.conf": shortHash(conf) },
        loads: [{ file: confFile, then: "restart" }],
      }, { parent: this, dependsOn: [confFile] });
      this.service = service;
      this.ready = [service];
    } else {
      this.port = 0;
      this.ready = [];
    }
    this.registerOutputs({});
  }

  /**
   * What an app's workers wait for: with RabbitMQ its own vhost and user (only that vhost;
   * deleted with the app, the vhost and its queues kept), with Redis nothing (the app's
   * own server is the app's). `first`:
   * keeps the one-app resource name.
   */
  public addApp(app: string, password: pulumi.Input<string>, first: boolean): pulumi.Resource[] {
    if (!this.service) return this.ready;
    const h = this.host;
    const name = this.componentName;
    // The password is on no command line: the script hashes it and imports the hash from
    // a file; refresh compares RabbitMQ's hash with ours (a password changed by hand is
    // drift that the next `up` sets back, in place).
    return [h.script(`${name}-account-${app}`, {
      description: `RabbitMQ vhost and user ${app}`,
      secrets: { [BROKER_PASSWORD_VAR]: password },
      create: rabbitAccountCreate(app),
      check: rabbitAccountCheck(app),
      // What drifted: the vhost, the user, its tags or rights, its password (matches or differs), guest.
      read: rabbitAccountRead(app),
      state: rabbitAccountState(app),
      delete: rabbitAccountDelete(app),
    }, { parent: this, dependsOn: [this.service], ...(first ? { aliases: [{ name: `${name}-account` }] } : {}) })];
  }
}
