/**
 * DbServer: the PostgreSQL primary on the db host, listening where the app and worker
 * hosts can reach it (and only they may log in, by pg_hba), with the app's database and
 * role; and, when the fleet has replicas, a replication role and one replication slot
 * per replica (dropped with the replica, so a removed replica does not pin WAL forever).
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderPgHba, renderPostgresConf } from "./postgres.ts";
import { replicationRoleRead, replicationRoleState, replicationSlotRead, replicationSlotState } from "./replicationState.ts";
import { cmd, script } from "../../lib/shell.ts";
import { sqlLiteral } from "../../lib/sql.ts";
import type { SystemdService } from "../../providers/systemdService.ts";
import type { Host } from "../../components/host.ts";
import { postgresFiles } from "../../plan/files.ts";
import { listenAddresses } from "../../plan/listen.ts";

/** One app's database and login role, and the hosts that run the app's code. */
export interface AppDatabase {
  /** Database name. */
  readonly database: string;
  /** Owning login role. */
  readonly user: string;
  /** Hosts whose app and workers connect with this role. */
  readonly clients: readonly HostPlan[];
}

/** pg_hba rules: each app's role, to its own database only, from the hosts that run it. */
export function appHbaRules(dbHost: string, apps: readonly AppDatabase[]): Array<{ database: string; user: string; address: string }> {
  return apps.flatMap((a) => a.clients.filter((c) => c.name !== dbHost).map((c) => ({ database: a.database, user: a.user, address: c.privateAddress })));
}

export interface DbServerArgs {
  /** The database primary's host. */
  readonly host: Host;
  /** Every app's database, role and client hosts (pg_hba is rendered from them). */
  readonly apps: readonly AppDatabase[];
  /** Port. @default 5432 for PostgreSQL, 3306 for MariaDB */
  readonly port?: number;
  /** Protect the database resource against `pulumi destroy`. @default false */
  readonly protect?: boolean;
  /** Streaming replicas of this primary. @default [] */
  readonly replicas?: readonly HostPlan[];
  /** Password of the replication role (secret); needed with replicas. */
  readonly replicationPassword?: pulumi.Input<string>;
  /** WAL archiving (backups): the archive_command, and what must be in place before it is turned on. @default off */
  readonly archive?: { readonly command: string; readonly after: pulumi.Resource[] };
}

/** The replication role's name. */
export const REPLICATION_USER = "replicator";

/** A replica's slot name: PostgreSQL allows [a-z0-9_]. */
export function slotName(replica: string): string {
  return `fleet_${replica.replace(/[^a-z0-9]/g, "_")}`;
}

export class DbServer extends pulumi.ComponentResource {
  /** Address clients on other hosts use. */
  public readonly address: string;
  /** Port PostgreSQL listens on. */
  public readonly port: number;
  /** The app databases made so far (addDatabase), for dependencies. */
  public readonly databaseResources: pulumi.Resource[] = [];
  private readonly protect: boolean;
  private readonly componentName: string;
  /** The replication role and slots replicas must wait for. */
  public readonly replicationReady: pulumi.Resource[];
  /** PostgreSQL running with this config. */
  public readonly service: SystemdService;

  constructor(name: string, args: DbServerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:DbServer", name, {}, opts);
    const h = args.host;
    const port = args.port ?? 5432;
    const replicas = args.replicas ?? [];
    // The cluster Debian's postgresql package made: its major version is the release's.
    const pg = h.facts.release.postgresql;
    const files = postgresFiles(pg);

    const conf = renderPostgresConf({
      listenAddresses: listenAddresses(h.plan, [...args.apps.flatMap((a) => a.clients), ...replicas], "localhost"),
      port,
      ...(args.archive ? { archive: { command: args.archive.command } } : {}),
    });
    const confFile = h.file(`${name}-conf`, {
      path: files.conf, content: conf,
      owner: "postgres", group: "postgres",
    }, { parent: this, dependsOn: args.archive?.after ?? [] });
    const hba = renderPgHba({
      rules: appHbaRules(h.plan.name, args.apps),
      replication: replicas.map((r) => ({ user: REPLICATION_USER, address: r.privateAddress })),
    });
    const hbaFile = h.file(`${name}-hba`, {
      path: files.hba, content: hba,
      owner: "postgres", group: "postgres", mode: "0640",
    }, { parent: this });
    const service = this.service = h.service(`${name}-service`, {
      unit: files.unit, stopOnDelete: false,
      restartOn: { "django-fleet.conf": shortHash(conf) },
      reloadOn: { "pg_hba.conf": shortHash(hba) },
      loads: [{ file: confFile, then: "restart" }, { file: hbaFile, then: "reload" }],
      readyCheck: { port },
    }, { parent: this, dependsOn: [confFile, hbaFile] });
    this.protect = args.protect ?? false;
    this.componentName = name;
    this.host = h;

    this.replicationReady = [];
    if (replicas.length) {
      const role = h.script(`${name}-replication-role`, {
        description: `replication role ${REPLICATION_USER}`,
        secrets: { REPLICATION_PASSWORD: args.replicationPassword ?? "" },
        create: script(
          // The password reaches psql inside its stdin (a heredoc), never a command line.
          `runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 <<SQL`,
          `SELECT format('CREATE ROLE %I REPLICATION LOGIN', ${sqlLiteral(REPLICATION_USER)})`,
          `  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sqlLiteral(REPLICATION_USER)}) \\gexec`,
          `ALTER ROLE ${REPLICATION_USER} WITH REPLICATION LOGIN PASSWORD '$REPLICATION_PASSWORD';`,
          "SQL",
        ),
        check: script(`[ "$(cd / && runuser -u postgres -- psql -XAtc "SELECT count(*) FROM pg_roles WHERE rolname = ${sqlLiteral(REPLICATION_USER)}")" = 1 ]`),
        read: replicationRoleRead(REPLICATION_USER),
        state: replicationRoleState(REPLICATION_USER),
      }, { parent: this, dependsOn: [service] });
      this.replicationReady.push(role);
      for (const r of replicas) {
        const slot = slotName(r.name);
        // Reserved at once (`true`): WAL from now on is kept for the replica even before it
        // first connects, so its pg_basebackup cannot lose a segment to a checkpoint (with
        // archiving on, a backup's checkpoint recycles archived segments right away).
        this.replicationReady.push(h.script(`${name}-slot-${r.name}`, {
          description: `replication slot ${slot}`,
          create: script(`cd / && runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c ${cmd(
            `SELECT pg_create_physical_replication_slot(${sqlLiteral(slot)}, true) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)})`)} >/dev/null`),
          check: script(`[ "$(cd / && runuser -u postgres -- psql -XAtc "SELECT count(*) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)}")" = 1 ]`),
          read: replicationSlotRead(slot),
          state: replicationSlotState(slot),
          // The replica stops streaming when it is removed; its walsender may take a moment to go.
          delete: script(
            "cd /",
            `for _ in $(seq 1 30); do`,
            `  left=$(runuser -u postgres -- psql -XAtc ${cmd(`SELECT count(*) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)}`)})`,
            `  [ "$left" = 0 ] && exit 0`,
            `  runuser -u postgres -- psql -XAtq -c ${cmd(`SELECT pg_drop_replication_slot(${sqlLiteral(slot)}) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(slot)} AND NOT active`)} >/dev/null`,
            "  sleep 1",
            "done",
            `echo "replication slot ${slot} is still in use" >&2; exit 1`,
          ),
        }, { parent: this, dependsOn: [role] }));
      }
    }
    this.address = h.plan.privateAddress;
    this.port = port;
    this.registerOutputs({});
  }

  private readonly host: Host;

  /**
   * An app's database and role (never dropped: retained on delete). `first`: the stack's
   * first app, whose database keeps the resource name of the one-app program.
   */
  public addDatabase(app: string, db: AppDatabase, password: pulumi.Input<string>, first: boolean): pulumi.Resource {
    const name = this.componentName;
    const r = this.host.postgresDatabase(`${name}-database-${app}`, {
      database: db.database, owner: db.user, password, port: this.port,
    }, { parent: this, dependsOn: [this.service], protect: this.protect, ...(first ? { aliases: [{ name: `${name}-database` }] } : {}) });
    this.databaseResources.push(r);
    return r;
  }
}
