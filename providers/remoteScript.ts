/**
 * RemoteScript: an imperative step on a host, re-run when its triggers change. Our own
 * stand-in for @pulumi/command's remote.Command (whose plugin cannot be built on these
 * machines; see README "Toolchain"), with two differences that matter here: it shares
 * the pooled SSH connection, and secrets travel in the script body on stdin.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./remoteScript.ops.ts", import.meta.url).href);

export interface RemoteScriptArgs {
  /** How to reach the host. */
  readonly connection: pulumi.Input<Connection>;
  /** Bash run on create (under `bash -euo pipefail`); must be idempotent. */
  readonly create: pulumi.Input<string>;
  /** Bash run when triggers change. @default the create script */
  readonly update?: pulumi.Input<string>;
  /** Bash run on delete. @default nothing is run */
  readonly delete?: pulumi.Input<string>;
  /** Named values whose change re-runs the step. @default {} */
  readonly triggers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Exits 0 while the step's work is in place; `pulumi refresh` runs it to find drift. @default none */
  readonly check?: pulumi.Input<string>;
  /**
   * Bash that prints the state of the object the step makes, as canonical text lines
   * (`user shop uid=... shell=/usr/sbin/nologin`, `password matches`): idempotent,
   * read-only, given the same secrets, and never printing a secret's value. `pulumi
   * refresh` runs it and stores what it printed, so drift previews as the lines that
   * differ from `state`. @default none (only `check` finds drift)
   */
  readonly read?: pulumi.Input<string>;
  /** What `read` prints when the object is as wanted, computed from the step's inputs. @default none */
  readonly state?: pulumi.Input<string>;
  /** Secret values, available to the scripts as shell variables of these names. @default {} */
  readonly secrets?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** What the step does, for error messages. */
  readonly description: string;
}

export class RemoteScript extends pulumi.dynamic.Resource {
  constructor(name: string, args: RemoteScriptArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      connection: pulumi.secret(args.connection),
      create: args.create,
      update: args.update,
      delete: args.delete,
      triggers: args.triggers ?? {},
      check: args.check,
      inSync: true,
      read: args.read,
      state: args.state,
      secrets: pulumi.secret(args.secrets ?? {}),
      description: args.description,
      schema: PROVIDER_SCHEMA,
    }, { ...opts, additionalSecretOutputs: ["connection", "secrets"] }, "fleet", "RemoteScript");
  }
}
