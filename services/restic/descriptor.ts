/**
 * restic, when backups have a target: MariaDB's dumps on the primary, and uploads kept on
 * the app host's disk (media.storage "local"). Its retention planner is Python.
 */
import type { ServiceDescriptor } from "../descriptor.ts";

export const restic: ServiceDescriptor = {
  name: "restic",
  runsOn: (roles, cfg) => !!cfg.backup?.target && (
    (roles.has("db") && cfg.database.engine === "mariadb") || (roles.has("app") && cfg.media?.storage === "local")),
  packages: ["restic", "python3"],
  logs: [],
};
