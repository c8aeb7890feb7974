/**
 * SystemdService: a unit kept enabled and running, restarted or reloaded exactly when
 * the named inputs it depends on change (previews show which one, by name).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import type { ReadyCheck } from "./systemdService.ops.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./systemdService.ops.ts", import.meta.url).href);

export interface SystemdServiceArgs {
  /** How to reach the host. */
  readonly connection: pulumi.Input<Connection>;
  /** Unit name, e.g. `nginx.service`. */
  readonly unit: pulumi.Input<string>;
  /** Start at boot. @default true */
  readonly enabled?: pulumi.Input<boolean>;
  /** Keep running. @default true */
  readonly active?: pulumi.Input<boolean>;
  /** Named hashes; a change restarts the unit. @default {} */
  readonly restartOn?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Named hashes; a change reloads the unit (restart if it cannot reload). @default {} */
  readonly reloadOn?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Stop and disable the unit when the resource is deleted. Set false for a service that
   * came with a package (nginx, PostgreSQL): destroying the stack leaves it running, as it
   * leaves the package installed. @default true
   */
  readonly stopOnDelete?: boolean;
  /**
   * The socket the service answers on once ready (e.g. gunicorn's bind address and port,
   * with `http: true`). After a start the run waits until it answers, not a fixed time.
   * Without it, readiness is systemd's: a notify/forking/oneshot unit is ready when its
   * start returns; a simple one must stay running for a short watch. @default none
   */
  readonly readyCheck?: pulumi.Input<ReadyCheck>;
}

export class SystemdService extends pulumi.dynamic.Resource {
  constructor(name: string, args: SystemdServiceArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      connection: pulumi.secret(args.connection),
      unit: args.unit,
      enabled: args.enabled ?? true,
      active: args.active ?? true,
      restartOn: args.restartOn ?? {},
      reloadOn: args.reloadOn ?? {},
      stopOnDelete: args.stopOnDelete ?? true,
      readyCheck: args.readyCheck,
      schema: PROVIDER_SCHEMA,
    }, { ...opts, additionalSecretOutputs: ["connection"] }, "fleet", "SystemdService");
  }
}
