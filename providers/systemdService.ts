/**
 * SystemdService: a unit kept enabled and running, restarted or reloaded exactly when
 * the named inputs it depends on change (previews show which one, by name).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import type { RemoteFile } from "./remoteFile.ts";
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
  /**
   * The config files the running process loads. Every write of one (its `written` stamp),
   * a write that only repaired drift included, reloads or restarts the unit (`then`); the
   * stamp is in state, so a reload lost with a killed run is done by the next `up`.
   * Refresh compares each file's modification time with the unit's last reload (or
   * start) and runs its `check`, and reports a file not loaded as the reload or restart
   * that loads it. @default []
   */
  readonly loads?: ReadonlyArray<Loads>;
}

/** A config file a service loads (see {@link SystemdServiceArgs.loads}). */
export interface Loads {
  /** The file. */
  readonly file: RemoteFile;
  /** What loads it: a reload (the unit re-reads it, e.g. on HUP) or a restart. */
  readonly then: "reload" | "restart";
  /**
   * A command refresh runs on the host, exiting 0 when what the kernel or daemon holds
   * matches the file (e.g. the loaded nftables table). @default none: times only
   */
  readonly check?: string;
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
      loads: (args.loads ?? []).map((l) => ({ path: l.file.path, written: l.file.written, then: l.then, ...(l.check ? { check: l.check } : {}) })),
      schema: PROVIDER_SCHEMA,
    }, { ...opts, additionalSecretOutputs: ["connection"] }, "fleet", "SystemdService");
  }
}
