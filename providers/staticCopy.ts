/**
 * StaticCopy: an app's collected static files, copied from the host where its code runs
 * to a load balancer that runs none of it, through this machine. The copy is keyed by the
 * release (a new commit copies again), and refresh compares the load balancer's copy with
 * the digest taken when it was written, so a missing or edited copy shows as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./staticCopy.ops.ts", import.meta.url).href);

export interface StaticCopyArgs {
  /** The host the files are read on (as the app's user). */
  readonly from: pulumi.Input<Connection>;
  /** The load balancer they are written to (by root, into root's folder). */
  readonly to: pulumi.Input<Connection>;
  /** The app's name (its user on `from`, its folder on `to`). */
  readonly app: string;
  /** The release id (12 hex digits) whose files these are. */
  readonly release: string;
  /** The app's STATIC_ROOT on `from`; null when nginx serves no static files of it (an empty copy). */
  readonly staticRoot: pulumi.Input<string | null>;
  /** Named values whose change copies again (a new env file may change what collectstatic made). @default {} */
  readonly triggers?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

export class StaticCopy extends pulumi.dynamic.Resource {
  /** The digest of the copy on the load balancer (its entries and bytes). */
  declare public readonly digest: pulumi.Output<string>;

  constructor(name: string, args: StaticCopyArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      from: pulumi.secret(args.from),
      to: pulumi.secret(args.to),
      app: args.app,
      release: args.release,
      staticRoot: args.staticRoot,
      triggers: args.triggers ?? {},
      digest: undefined,
      inSync: true,
      schema: PROVIDER_SCHEMA,
    }, { ...opts, additionalSecretOutputs: ["from", "to"] }, "fleet", "StaticCopy");
  }
}
