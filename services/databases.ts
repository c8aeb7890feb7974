/** The database engines, and the one a stack config selects. */
import type { DatabaseEngine, ServiceConfig } from "./descriptor.ts";
import { mariadb } from "./mariadb/descriptor.ts";
import { postgresql } from "./postgresql/descriptor.ts";

/** Every engine `database.engine` can name. */
export const DATABASE_ENGINES: readonly DatabaseEngine[] = [postgresql, mariadb];

/** The engine of the stack's database. */
export function databaseEngineOf(cfg: Pick<ServiceConfig, "database">): DatabaseEngine {
  const e = DATABASE_ENGINES.find((d) => d.engine === cfg.database.engine);
  if (!e) throw new Error(`unknown database engine ${JSON.stringify(cfg.database.engine)}`);
  return e;
}
