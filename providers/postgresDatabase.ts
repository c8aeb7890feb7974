/**
 * PostgresDatabase: an app's database and login role. Never dropped by Pulumi (see
 * postgresDatabase.ops.ts); components also set `retainOnDelete`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./postgresDatabase.ops.ts", import.meta.url).href);

export interface PostgresDatabaseArgs {
  /** How to reach the database host. */
  readonly connection: pulumi.Input<Connection>;
  /** Database name. */
  readonly database: pulumi.Input<string>;
  /** Login role that owns it. */
  readonly owner: pulumi.Input<string>;
  /** The role's password (secret). */
  readonly password: pulumi.Input<string>;
  /** The port PostgreSQL listens on (refresh logs in there as the owner). @default 5432 */
  readonly port?: number;
}

export class PostgresDatabase extends pulumi.dynamic.Resource {
  constructor(name: string, args: PostgresDatabaseArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      connection: pulumi.secret(args.connection),
      database: args.database,
      owner: args.owner,
      password: pulumi.secret(args.password),
      isolated: true,
      port: args.port ?? 5432,
      passwordAccepted: true,
      schema: PROVIDER_SCHEMA,
    }, { retainOnDelete: true, ...opts, additionalSecretOutputs: ["connection", "password"] }, "fleet", "PostgresDatabase");
  }
}
