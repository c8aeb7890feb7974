/** pgBackRest on the PostgreSQL primary when backups have a target; its retention planner is Python. */
import type { ServiceDescriptor } from "../descriptor.ts";

export const pgbackrest: ServiceDescriptor = {
  name: "pgbackrest",
  runsOn: (roles, cfg) => roles.has("db") && !!cfg.backup?.target && cfg.database.engine === "postgresql",
  packages: ["pgbackrest", "python3"],
  logs: [],
};
