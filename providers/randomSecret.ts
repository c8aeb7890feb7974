/**
 * RandomSecret: a generated password. Our own, because the pulumi-random plugin cannot
 * be built from the registries these machines reach (see README "Toolchain"). The value
 * is a secret output: encrypted in state, `[secret]` in every preview and log.
 */
import * as pulumi from "@pulumi/pulumi";
import { lazyProvider } from "./dynamic.ts";

const provider = lazyProvider(new URL("./randomSecret.ops.ts", import.meta.url).href);

export interface RandomSecretArgs {
  /** Number of characters. Changing it generates a new value. @default 32 */
  readonly length?: number;
}

export class RandomSecret extends pulumi.dynamic.Resource {
  /** The generated value (secret). */
  declare public readonly value: pulumi.Output<string>;

  constructor(name: string, args: RandomSecretArgs = {}, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, { length: args.length ?? 32, value: undefined },
      { ...opts, additionalSecretOutputs: ["value"] }, "fleet", "RandomSecret");
  }
}
