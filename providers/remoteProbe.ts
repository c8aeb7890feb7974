/**
 * RemoteProbe: a fact read on a host by a read-only script (what the deployed project's
 * Django settings say, for one). The script prints one line `FLEET_FACT=<json>`; the
 * parsed value is the resource's `value` output, which other resources take as input.
 * It is read again when its triggers change (a new release, a new env file) and on every
 * refresh, so a fact that changed on the host shows in the next preview as changed
 * inputs of the resources built from it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./remoteProbe.ops.ts", import.meta.url).href);

export interface RemoteProbeArgs {
  /** How to reach the host. */
  readonly connection: pulumi.Input<Connection>;
  /** Read-only bash that prints `FLEET_FACT=<json>` on a line of its own. */
  readonly probe: pulumi.Input<string>;
  /** Named values whose change reads the fact again. @default {} */
  readonly triggers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** What is read, for error messages. */
  readonly description: string;
}

export class RemoteProbe<T> extends pulumi.dynamic.Resource {
  /** The fact, as the probe printed it. */
  declare public readonly value: pulumi.Output<T>;

  constructor(name: string, args: RemoteProbeArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      connection: pulumi.secret(args.connection),
      probe: args.probe,
      triggers: args.triggers ?? {},
      description: args.description,
      value: undefined,
      schema: PROVIDER_SCHEMA,
    }, { ...opts, additionalSecretOutputs: ["connection"] }, "fleet", "RemoteProbe");
  }
}
