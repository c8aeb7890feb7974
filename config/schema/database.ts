/** The `database` section: the engine and the app's database on it. */
import { z } from "zod";
import { databaseUser, ident, port } from "./primitives.ts";

export const databaseSchema = z.strictObject({
  /** Database engine: PostgreSQL (streaming replicas) or MariaDB (binlog replication). @default "postgresql" */
  engine: z.enum(["postgresql", "mariadb"]).default("postgresql"),
  /** Database name. @default the app name */
  name: ident.optional(),
  /** Owning login role. @default the app name */
  user: databaseUser.optional(),
  /** Port. @default 5432 for PostgreSQL, 3306 for MariaDB */
  port: port.optional(),
}).transform((d) => ({ ...d, port: d.port ?? (d.engine === "mariadb" ? 3306 : 5432) }));
