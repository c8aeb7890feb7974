/**
 * The MariaDB server snippet django-fleet owns (mariadb.conf.d/60-django-fleet.cnf):
 * where it listens, its binlog for replication, and its role as primary or replica.
 */
import { assertHost, assertInt, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** Options for {@link renderMariaDbConf}. */
export interface MariaDbConfOptions {
  /** Addresses to listen on (MariaDB 10.11 takes a list). */
  readonly bindAddresses: readonly string[];
  /** Port. @default 3306 */
  readonly port?: number;
  /** Unique per server in a replication setup (1 for the primary). */
  readonly serverId: number;
  /** Replica: read-only, and a relay log named for the host. @default false */
  readonly replica?: boolean;
  /** Days of binlog kept for replicas to catch up. @default 7 */
  readonly binlogExpireDays?: number;
}

export function renderMariaDbConf(o: MariaDbConfOptions): string {
  const bind = o.bindAddresses.map((a, i) => assertHost(`mariadb bindAddresses[${i}]`, a));
  const port = assertPort("mariadb port", withDefault(o.port, 3306));
  const serverId = assertInt("mariadb serverId", o.serverId, 1, 4294967295);
  const days = assertInt("mariadb binlogExpireDays", withDefault(o.binlogExpireDays, 7), 1, 99);
  return renderLines([
    managedHeader("#"),
    "[mysqld]",
    `bind-address = ${bind.join(",")}`,
    `port = ${port}`,
    "character-set-server = utf8mb4",
    "collation-server = utf8mb4_unicode_ci",
    // Row-based binlog with GTIDs: what a replica needs to follow and to resume.
    `server-id = ${serverId}`,
    // Relative names keep the logs in the data directory (/var/log/mysql may not exist).
    "log_bin = mysql-bin",
    "binlog_format = ROW",
    `expire_logs_days = ${days}`,
    "log_slave_updates = ON",
    o.replica === true && "read_only = ON",
    o.replica === true && "relay_log = relay-bin",
  ]);
}
