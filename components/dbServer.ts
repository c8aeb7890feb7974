/**
 * DbServer: PostgreSQL on the db host, listening where the app and worker hosts can
 * reach it (and only they may log in, by pg_hba), with the app's database and role.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../config/topology.ts";
import { shortHash } from "../lib/hash.ts";
import { renderPgHba, renderPostgresConf } from "../templates/postgres.ts";
import { PostgresDatabase } from "../providers/postgresDatabase.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { SystemdService } from "../providers/systemdService.ts";
import type { Host } from "./host.ts";

/** Debian 12's PostgreSQL major version. */
export const PG_VERSION = "15";

export interface DbServerArgs {
  /** The db host. */
  readonly host: Host;
  /** Hosts whose apps and workers connect (app, worker, beat hosts). */
  readonly clients: readonly HostPlan[];
  /** Database name. */
  readonly database: string;
  /** Owning login role. */
  readonly user: string;
  /** The role's password (secret). */
  readonly password: pulumi.Input<string>;
  /** Port. @default 5432 */
  readonly port?: number;
  /** Protect the database resource against `pulumi destroy`. @default false */
  readonly protect?: boolean;
}

export class DbServer extends pulumi.ComponentResource {
  /** Address clients on other hosts use. */
  public readonly address: string;
  /** Port PostgreSQL listens on. */
  public readonly port: number;
  /** The database resource, for dependencies. */
  public readonly databaseResource: PostgresDatabase;

  constructor(name: string, args: DbServerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:DbServer", name, {}, opts);
    const h = args.host;
    const port = args.port ?? 5432;
    const remote = args.clients.filter((c) => c.name !== h.plan.name);
    const etc = `/etc/postgresql/${PG_VERSION}/main`;
    const deps = { parent: this, dependsOn: h.ready };

    const conf = renderPostgresConf({
      listenAddresses: remote.length ? ["localhost", h.plan.privateAddress] : ["localhost"],
      port,
    });
    const confFile = new RemoteFile(`${name}-conf`, {
      connection: h.connection, path: `${etc}/conf.d/django-fleet.conf`, content: conf,
      owner: "postgres", group: "postgres",
    }, deps);
    const hba = renderPgHba({
      rules: remote.map((c) => ({ database: args.database, user: args.user, address: c.privateAddress })),
    });
    const hbaFile = new RemoteFile(`${name}-hba`, {
      connection: h.connection, path: `${etc}/pg_hba.conf`, content: hba,
      owner: "postgres", group: "postgres", mode: "0640",
    }, deps);
    const service = new SystemdService(`${name}-service`, {
      connection: h.connection,
      unit: `postgresql@${PG_VERSION}-main.service`, stopOnDelete: false,
      restartOn: { "django-fleet.conf": shortHash(conf) },
      reloadOn: { "pg_hba.conf": shortHash(hba) },
    }, { parent: this, dependsOn: [confFile, hbaFile] });
    this.databaseResource = new PostgresDatabase(`${name}-database`, {
      connection: h.connection, database: args.database, owner: args.user, password: args.password,
    }, { parent: this, dependsOn: [service], protect: args.protect });

    this.address = h.plan.privateAddress;
    this.port = port;
    this.registerOutputs({});
  }
}
