/**
 * MariaDB, the second database engine: the primary with the app's database and user
 * (one account per client host), a replication account, and replicas that follow the
 * primary's binlog with GTIDs. As with PostgreSQL, the database is never dropped.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { cmd, script } from "../../lib/shell.ts";
import { mariaAccount, mariaIdent, mariaLiteral } from "../../lib/sql.ts";
import { renderMariaDbConf } from "./mariadb.ts";
import type { SystemdService } from "../../providers/systemdService.ts";
import type { AppDatabase, DbServerArgs } from "../postgresql/dbServer.ts";
import type { Host } from "../../components/host.ts";
import { MariaDbBackup, type MariaDbBackupArgs } from "../restic/mariaDbBackup.ts";
import { MARIADB_CONF } from "../../plan/files.ts";
import { listenAddresses } from "../../plan/listen.ts";

const CONF = MARIADB_CONF;
const UNIT = "mariadb.service";
export const MARIADB_REPLICATION_USER = "replicator";

/** A query as the server's root over its local socket (no secrets: the SQL is an argument). */
function q(text: string): string {
  return `mariadb --batch --skip-column-names -e ${cmd(text)}`;
}

/**
 * Statements that carry a secret (shell variables expand in the unquoted heredoc): the
 * SQL travels on stdin. Ends with a newline, so it must stand as a whole command.
 */
function secretSql(text: string): string {
  return `mariadb --batch <<SQL\n${text}\nSQL\n`;
}

/** A client option file on a file descriptor: the password never reaches argv. */
function clientOptions(host: string, port: number, user: string, passwordVar: string): string {
  return `<(printf '[client]\\nhost=%s\\nport=%s\\nuser=%s\\npassword=%s\\n' ${cmd(host)} ${port} ${cmd(user)} "$${passwordVar}")`;
}

/** The same arguments as PostgreSQL's primary (the port defaults to 3306 here), plus backups. */
export type MariaDbServerArgs = DbServerArgs & {
  /** Backups with restic. @default none */
  readonly backup?: Omit<MariaDbBackupArgs, "host" | "after" | "database">;
};

export class MariaDbServer extends pulumi.ComponentResource {
  public readonly address: string;
  public readonly port: number;
  /** The app databases made so far (addDatabase), for dependencies. */
  public readonly databaseResources: pulumi.Resource[] = [];
  private readonly backup: MariaDbBackup | undefined;
  private readonly service: SystemdService;
  private readonly componentName: string;
  private readonly host: Host;
  private readonly protect: boolean;
  public readonly replicationReady: pulumi.Resource[];

  constructor(name: string, args: MariaDbServerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:MariaDbServer", name, {}, opts);
    const h = args.host;
    const port = args.port ?? 3306;
    const replicas = args.replicas ?? [];
    const conf = renderMariaDbConf({
      bindAddresses: listenAddresses(h.plan, [...args.apps.flatMap((a) => a.clients), ...replicas]),
      port, serverId: 1,
    });
    const confFile = h.file(`${name}-conf`, { path: CONF, content: conf }, { parent: this });
    const service = h.service(`${name}-service`, {
      unit: UNIT, stopOnDelete: false, restartOn: { "60-django-fleet.cnf": shortHash(conf) },
      loads: [{ file: confFile, then: "restart" }],
    }, { parent: this, dependsOn: [confFile] });

    this.backup = args.backup && new MariaDbBackup(`${name}-backup`, { ...args.backup, host: h, database: args.apps[0]!.database, after: [service] }, { parent: this });
    this.service = service;
    this.componentName = name;
    this.host = h;
    this.protect = args.protect ?? false;

    this.replicationReady = [];
    if (replicas.length) {
      const r = MARIADB_REPLICATION_USER;
      const accounts = replicas.map((p) => [
        `CREATE USER IF NOT EXISTS ${mariaAccount(r, p.privateAddress)} IDENTIFIED BY '$REPLICATION_PASSWORD';`,
        `ALTER USER ${mariaAccount(r, p.privateAddress)} IDENTIFIED BY '$REPLICATION_PASSWORD';`,
        // What a replica needs to follow the binlog, and to take its first copy with mariadb-dump.
        `GRANT REPLICATION SLAVE, REPLICATION CLIENT, SELECT, RELOAD, LOCK TABLES, SHOW VIEW, EVENT, TRIGGER ON *.* TO ${mariaAccount(r, p.privateAddress)};`,
      ].join("\n")).join("\n");
      this.replicationReady.push(h.script(`${name}-replication-user`, {
        description: `MariaDB replication user ${r}`,
        secrets: { REPLICATION_PASSWORD: args.replicationPassword ?? "" },
        create: script(
          secretSql(accounts),
          `for stale in $(${q(`SELECT host FROM mysql.user WHERE user = ${mariaLiteral(r)}`)}); do`,
          `  case " ${replicas.map((p) => p.privateAddress).join(" ")} " in *" $stale "*) ;; *) ${q(`DROP USER ${mariaLiteral(r)}@'`)}"$stale'" ;; esac`,
          "done",
        ),
        check: script(`[ "$(${q(`SELECT COUNT(*) FROM mysql.user WHERE user = ${mariaLiteral(r)}`)})" = ${replicas.length} ]`),
        delete: script(
          `for h in $(${q(`SELECT host FROM mysql.user WHERE user = ${mariaLiteral(r)}`)}); do`,
          `  ${q(`DROP USER ${mariaLiteral(r)}@'`)}"$h'"`,
          "done",
        ),
      }, { parent: this, dependsOn: [service] }));
    }
    this.address = h.plan.privateAddress;
    this.port = port;
    this.registerOutputs({});
  }

  /**
   * An app's database and user: one account per client address, stale ones dropped.
   * Never dropped itself (retained on delete). `first`: keeps the one-app resource name.
   */
  public addDatabase(app: string, d: AppDatabase, password: pulumi.Input<string>, first: boolean): pulumi.Resource {
    const h = this.host;
    const name = this.componentName;
    const remote = d.clients.filter((c) => c.name !== h.plan.name);
    // Accounts: the app user at localhost and at each client address; stale ones go.
    const hosts = [...new Set(["localhost", "127.0.0.1", ...remote.map((c) => c.privateAddress)])].sort();
    // Quoted where they reach SQL (lib/sql.ts), not stripped: the config's names need neither.
    const u = d.user;
    const db = d.database;
    const users = hosts.map((a) => [
      `CREATE USER IF NOT EXISTS ${mariaAccount(u, a)} IDENTIFIED BY '$DB_PASSWORD';`,
      `ALTER USER ${mariaAccount(u, a)} IDENTIFIED BY '$DB_PASSWORD';`,
    ].join("\n")).join("\n");
    const grants = hosts.map((a) => `GRANT ALL PRIVILEGES ON ${mariaIdent(db)}.* TO ${mariaAccount(u, a)};`).join(" ");
    const backup = this.backup;
    const r = h.script(`${name}-database-${app}`, {
      description: `MariaDB database ${db} and user ${u}`,
      secrets: { DB_PASSWORD: password },
      create: script(
        q(`CREATE DATABASE IF NOT EXISTS ${mariaIdent(db)} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`),
        secretSql(users),
        q(grants),
        `for stale in $(${q(`SELECT host FROM mysql.user WHERE user = ${mariaLiteral(u)}`)}); do`,
        `  case " ${hosts.join(" ")} " in *" $stale "*) ;; *) ${q(`DROP USER ${mariaLiteral(u)}@'`)}"$stale'" ;; esac`,
        "done",
      ),
      check: script(
        `[ "$(${q(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${mariaLiteral(db)}`)})" = 1 ]`,
        `[ "$(${q(`SELECT COUNT(*) FROM mysql.user WHERE user = ${mariaLiteral(u)}`)})" = ${hosts.length} ]`,
        // The password works: a login as the app, over the socket and over TCP on loopback
        // (the option file on a descriptor keeps it off the command line).
        `mariadb --defaults-extra-file=${clientOptions("localhost", this.port, u, "DB_PASSWORD")} --batch -e 'SELECT 1' >/dev/null`,
        `mariadb --defaults-extra-file=${clientOptions("127.0.0.1", this.port, u, "DB_PASSWORD")} --protocol=TCP --batch -e 'SELECT 1' >/dev/null`,
      ),
      // No delete script: the database and its data stay (see the module comment).
    }, {
      parent: this, dependsOn: [this.service, ...(backup ? [backup.restored] : [])],
      protect: this.protect, retainOnDelete: true, ...(first ? { aliases: [{ name: `${name}-database` }] } : {}),
    });
    if (backup) backup.firstBackup([r]);
    this.databaseResources.push(r);
    return r;
  }

}

export interface MariaDbReplicaArgs {
  readonly host: Host;
  readonly primary: HostPlan;
  readonly database: string;
  readonly port: number;
  /** Unique server id (2, 3, ...). */
  readonly serverId: number;
  readonly replicationPassword: pulumi.Input<string>;
  readonly after: pulumi.Resource[];
}

export class MariaDbReplica extends pulumi.ComponentResource {
  public readonly address: string;

  constructor(name: string, args: MariaDbReplicaArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:MariaDbReplica", name, {}, opts);
    const h = args.host;
    const conf = renderMariaDbConf({ bindAddresses: ["127.0.0.1", h.plan.privateAddress], port: args.port, serverId: args.serverId, replica: true });
    const confFile = h.file(`${name}-conf`, { path: CONF, content: conf }, { parent: this });
    const service = h.service(`${name}-service`, {
      unit: UNIT, stopOnDelete: false, restartOn: { "60-django-fleet.cnf": shortHash(conf) },
      loads: [{ file: confFile, then: "restart" }],
    }, { parent: this, dependsOn: [confFile] });
    const db = args.database;
    const primary = args.primary.privateAddress;
    // Vertical output keeps its field names only without --skip-column-names.
    const status = `mariadb -e ${cmd("SHOW SLAVE STATUS\\G")}`;
    const running = `[ "$(${status} | grep -Ec 'Slave_(IO|SQL)_Running: Yes')" = 2 ]`;
    h.script(`${name}-replication`, {
      description: `follow the MariaDB primary ${args.primary.name}`,
      secrets: { REPLICATION_PASSWORD: args.replicationPassword },
      create: script(
        `if ${running}; then exit 0; fi`,
        // Never overwrite the app's data on a server that holds it and does not follow a
        // primary: it may be a promoted replica or a former primary.
        `if [ "$(${q(`SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ${mariaLiteral(db)}`)})" != 0 ] && [ -z "$(${q("SHOW SLAVE STATUS")})" ]; then`,
        `  echo ${cmd(`refusing to seed ${h.plan.name}: it holds the database ${db} and follows no primary. Move or drop that data by hand, then run up again.`)} >&2; exit 1`,
        "fi",
        q("STOP SLAVE; RESET SLAVE ALL"),
        // A consistent copy with the GTID position it corresponds to, then follow from there.
        `mariadb-dump --defaults-extra-file=${clientOptions(primary, args.port, MARIADB_REPLICATION_USER, "REPLICATION_PASSWORD")} --single-transaction --gtid --master-data=1 --databases ${cmd(db)} | mariadb`,
        secretSql([
          `CHANGE MASTER TO MASTER_HOST=${mariaLiteral(primary)}, MASTER_PORT=${args.port}, MASTER_USER=${mariaLiteral(MARIADB_REPLICATION_USER)},`,
          `  MASTER_PASSWORD='$REPLICATION_PASSWORD', MASTER_USE_GTID=slave_pos;`,
          "START SLAVE;",
        ].join("\n")),
        `for _ in $(seq 1 30); do if ${running}; then exit 0; fi; sleep 1; done`,
        `echo "the replica did not start following ${primary}:" >&2; ${status} | grep -E 'Running|Error' >&2; exit 1`,
      ),
      check: script(running),
      delete: script(q("STOP SLAVE")),
      triggers: { primary },
    }, { parent: this, dependsOn: [service, ...args.after] });
    this.address = h.plan.privateAddress;
    this.registerOutputs({});
  }
}
