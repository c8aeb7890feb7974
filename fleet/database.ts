/**
 * The database tier, where `database.engine` is switched on once: the primary
 * (PostgreSQL's DbServer or MariaDbServer), its backups (pgBackRest on a PostgreSQL
 * primary; MariaDB's restic lives in MariaDbServer), the backup repository's key and the
 * replication password, then the replicas.
 */
import type { Input } from "@pulumi/pulumi";
import type { Preflight } from "../lib/preflight.ts";
import { RandomSecret } from "../providers/randomSecret.ts";
import { MariaDbReplica, MariaDbServer } from "../services/mariadb/mariaDbServer.ts";
import { ARCHIVE_COMMAND, PgBackup } from "../services/pgbackrest/pgBackup.ts";
import { DbReplica } from "../services/postgresql/dbReplica.ts";
import { DbServer, type AppDatabase } from "../services/postgresql/dbServer.ts";
import { hostOf, type Hosts } from "./hosts.ts";

/** The primary and what the rest of the fleet reads from it. */
export interface DatabaseTier {
  /** The primary. */
  readonly server: DbServer | MariaDbServer;
  /** pgBackRest, with PostgreSQL and a backup target. */
  readonly pgBackup: PgBackup | undefined;
  /** The backup repository's encryption key, with a backup target. */
  readonly backupKey: Input<string> | undefined;
  /** The replication role's password, with replicas. */
  readonly replicationPassword: Input<string> | undefined;
  /** Each app's database, its role and the hosts that connect to it, in config order. */
  readonly apps: readonly AppDatabase[];
}

export function databasePrimary(pre: Preflight, hosts: Hosts): DatabaseTier {
  const { cfg, topo, backupTarget } = pre;
  const host = hostOf(hosts, topo.db.name);
  const backupCipher = backupTarget ? new RandomSecret("backup-cipher-pass", { length: 64 }) : undefined;
  const apps = topo.deployments.map((d) => ({ database: d.app.database.name, user: d.app.database.user, clients: d.codeHosts }));
  const pgBackup = backupTarget && cfg.database.engine === "postgresql" ? new PgBackup("db-backup", {
    host, store: backupTarget, port: cfg.database.port, database: apps[0]!.database,
    cipherPass: backupCipher!.value, schedule: cfg.backup.schedule, drillSchedule: cfg.backup.drillSchedule,
    retention: cfg.backup.retention,
  }) : undefined;
  const replicationPassword = topo.dbReplicas.length ? new RandomSecret("replication-password", { length: 32 }) : undefined;
  const args = {
    host, apps, port: cfg.database.port, protect: cfg.protectData,
    replicas: topo.dbReplicas, replicationPassword: replicationPassword?.value,
    archive: pgBackup && { command: ARCHIVE_COMMAND, after: pgBackup.beforeArchiving },
  };
  const server = cfg.database.engine === "mariadb"
    ? new MariaDbServer("db", {
      ...args,
      backup: backupTarget && { store: backupTarget, password: backupCipher!.value, schedule: cfg.backup.schedule, retention: cfg.backup.retention },
    })
    : new DbServer("db", args);
  return { server, pgBackup, backupKey: backupCipher?.value, replicationPassword: replicationPassword?.value, apps };
}

/** The replicas, once every app's database exists on the primary. */
export function dbReplicas({ cfg, topo }: Preflight, hosts: Hosts, tier: DatabaseTier): Array<DbReplica | MariaDbReplica> {
  const { server: db, replicationPassword, apps } = tier;
  return topo.dbReplicas.map((plan, i) => cfg.database.engine === "mariadb"
    ? new MariaDbReplica(`${plan.name}-replica`, {
      host: hostOf(hosts, plan.name), primary: topo.db, database: apps[0]!.database, port: cfg.database.port, serverId: i + 2,
      replicationPassword: replicationPassword!, after: [...db.replicationReady, ...db.databaseResources],
    })
    : new DbReplica(`${plan.name}-replica`, {
      host: hostOf(hosts, plan.name), primary: topo.db, apps,
      port: cfg.database.port, replicationPassword: replicationPassword!, after: db.replicationReady,
    }));
}
