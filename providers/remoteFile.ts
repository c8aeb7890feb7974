/**
 * RemoteFile: a file on a host whose content, mode and owner Pulumi owns. Preview shows
 * the changed lines; refresh reads the file back, so a hand edit shows up as drift and
 * the next `up` writes it back.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./remoteFile.ops.ts", import.meta.url).href);

export interface RemoteFileArgs {
  /** How to reach the host. */
  readonly connection: pulumi.Input<Connection>;
  /** Absolute path of the file. Changing it replaces the file (new one first). */
  readonly path: pulumi.Input<string>;
  /** Full content of the file. */
  readonly content: pulumi.Input<string>;
  /** Octal mode. @default "0644" */
  readonly mode?: pulumi.Input<string>;
  /** Owning user. @default "root" */
  readonly owner?: pulumi.Input<string>;
  /** Owning group. @default "root" */
  readonly group?: pulumi.Input<string>;
  /** The content holds secrets: keep it encrypted in state and hidden in previews. @default false */
  readonly secret?: boolean;
}

export class RemoteFile extends pulumi.dynamic.Resource {
  /** The file's path on the host. */
  declare public readonly path: pulumi.Output<string>;
  /** The file's content as last written or read back. */
  declare public readonly content: pulumi.Output<string>;
  /**
   * When a run last wrote the file (or found it needed writing): a new value on every
   * write, a write that only repaired drift included. Services that load the file take
   * it as their reload or restart trigger (SystemdService `loads`).
   */
  declare public readonly written: pulumi.Output<string>;

  constructor(name: string, args: RemoteFileArgs, opts?: pulumi.CustomResourceOptions) {
    const content = args.secret ? pulumi.secret(args.content) : args.content;
    super(provider, name, {
      connection: pulumi.secret(args.connection),
      path: args.path,
      content,
      mode: args.mode ?? "0644",
      owner: args.owner ?? "root",
      group: args.group ?? "root",
      schema: PROVIDER_SCHEMA,
      // An output only: declared so that it resolves (unknown while previewing a write).
      written: undefined,
    }, {
      ...opts,
      additionalSecretOutputs: ["connection", ...(args.secret ? ["content"] : [])],
    }, "fleet", "RemoteFile");
  }
}
