/**
 * DbReplica: a PostgreSQL streaming replica of the primary, on its own host. It is made
 * once with pg_basebackup (through its own replication slot) and from then on follows
 * the primary; refresh notices when it stopped being a standby, and `up` re-seeds it.
 * Removing it stops it and leaves its data directory in place.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { cmd, script } from "../../lib/shell.ts";
import { sqlLiteral } from "../../lib/sql.ts";
import { renderPgHba, renderPostgresConf } from "./postgres.ts";
import { appHbaRules, REPLICATION_USER, slotName, type AppDatabase } from "./dbServer.ts";
import type { Host } from "../../components/host.ts";

export interface DbReplicaArgs {
  /** The replica host. */
  readonly host: Host;
  /** The primary. */
  readonly primary: HostPlan;
  /** Every app's database, role and client hosts: they may read from the replica. */
  readonly apps: readonly AppDatabase[];
  /** Port. @default 5432 */
  readonly port?: number;
  /** Replication role's password (secret). */
  readonly replicationPassword: pulumi.Input<string>;
  /** The primary's replication role and slot. */
  readonly after: pulumi.Resource[];
}

export class DbReplica extends pulumi.ComponentResource {
  /** Address clients use to read from it. */
  public readonly address: string;

  constructor(name: string, args: DbReplicaArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:DbReplica", name, {}, opts);
    const h = args.host;
    const port = args.port ?? 5432;
    const pg = args.host.facts.release.postgresql;
    const etc = `/etc/postgresql/${pg}/main`;
    const data = `/var/lib/postgresql/${pg}/main`;
    const unit = `postgresql@${pg}-main.service`;

    const conf = renderPostgresConf({ listenAddresses: ["localhost", h.plan.privateAddress], port, hotStandby: true });
    const hba = renderPgHba({ rules: appHbaRules(h.plan.name, args.apps) });
    const confFile = h.file(`${name}-conf`, { path: `${etc}/conf.d/django-fleet.conf`, content: conf, owner: "postgres", group: "postgres" }, { parent: this });
    const hbaFile = h.file(`${name}-hba`, { path: `${etc}/pg_hba.conf`, content: hba, owner: "postgres", group: "postgres", mode: "0640" }, { parent: this });

    const isStandby = `[ -f ${cmd(`${data}/standby.signal`)} ]`;
    const holdsApp = `[ "$(cd / && runuser -u postgres -- psql -XAtc ${cmd(`SELECT count(*) FROM pg_database WHERE datname IN (${args.apps.map((a) => sqlLiteral(a.database)).join(", ")})`)} 2>/dev/null || echo 0)" != 0 ]`;
    // A standby that streams is left alone. One that does not stream within a while (its
    // primary was restored from backup to an earlier point, or lost its slot) is re-seeded.
    const streams = (seconds: number) => `streams() { for _ in $(seq 1 ${seconds}); do [ "$(cd / && runuser -u postgres -- psql -XAtc "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'" 2>/dev/null)" = 1 ] && return 0; sleep 1; done; return 1; }`;
    const seed = h.script(`${name}-basebackup`, {
      description: `seed replica from ${args.primary.name} (pg_basebackup)`,
      secrets: { REPLICATION_PASSWORD: args.replicationPassword },
      create: script(
        streams(30),
        `if ${isStandby} && streams; then exit 0; fi`,
        `if ${isStandby}; then echo ${cmd(`${h.plan.name} is a standby that does not stream from ${args.primary.name}: re-seeding it`)}; fi`,
        // Never wipe a cluster that holds the app's database and is not a standby: it may be
        // a promoted replica or a former primary, i.e. the only copy of the data.
        `if ! ${isStandby} && ${holdsApp}; then echo ${cmd(`refusing to re-seed ${h.plan.name}: its cluster holds an app's database (${args.apps.map((a) => a.database).join(", ")}) and is not a standby (a promoted replica or a former primary?). Move or drop that data by hand, then run up again.`)} >&2; exit 1; fi`,
        `systemctl stop ${unit}`,
        `find ${cmd(data)} -mindepth 1 -delete`,
        // -R writes primary_conninfo (with the password, in the 0600 postgresql.auto.conf
        // owned by postgres) and standby.signal; -S streams through our slot.
        // PGPASSWORD in the environment (runuser keeps it), never in an argument list.
        `PGPASSWORD="$REPLICATION_PASSWORD" runuser -u postgres -- pg_basebackup -h ${cmd(args.primary.privateAddress)} -p ${port} -U ${REPLICATION_USER} -D ${cmd(data)} -R -S ${cmd(slotName(h.plan.name))} -X stream -c fast`,
        // A primary restored by pgBackRest may carry its restore settings in
        // postgresql.auto.conf; a replica has no pgbackrest and follows by streaming.
        `sed -i -E '/^(restore_command|recovery_target[a-z_]*) *=/d' ${cmd(`${data}/postgresql.auto.conf`)}`,
        `systemctl start ${unit}`,
      ),
      check: script(`${isStandby}`, `[ "$(cd / && runuser -u postgres -- psql -XAtc 'SELECT pg_is_in_recovery()')" = t ]`, streams(10), "streams"),
      delete: script(`systemctl stop ${unit}`),
      triggers: { primary: args.primary.privateAddress },
    }, { parent: this, dependsOn: [confFile, hbaFile, ...args.after] });
    h.service(`${name}-service`, {
      unit, stopOnDelete: false,
      restartOn: { "django-fleet.conf": shortHash(conf) },
      reloadOn: { "pg_hba.conf": shortHash(hba) },
      loads: [{ file: confFile, then: "restart" }, { file: hbaFile, then: "reload" }],
      readyCheck: { port },
    }, { parent: this, dependsOn: [seed] });
    this.address = h.plan.privateAddress;
    this.registerOutputs({});
  }
}
