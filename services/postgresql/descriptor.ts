/** PostgreSQL, the default database engine: the primary and its streaming replicas. */
import { databaseEngine } from "../descriptor.ts";

export const postgresql = databaseEngine({
  name: "postgresql",
  engine: "postgresql",
  packages: ["postgresql"],
  // psycopg ships wheels with libpq: nothing to build.
  driverBuildPackages: [],
  logs: [
    // postgresql-common's pg_ctlcluster: `-l /var/log/postgresql/postgresql-<version>-<cluster>.log`.
    // A glob on the version: 15 on Debian 12, 17 on Debian 13. Rotated copies (`.log.1`) do not match.
    { tag: "postgresql", file: "/var/log/postgresql/postgresql-*-main.log" },
  ],
});
