/** MariaDB, the second database engine: the primary and its binlog replicas. */
import { databaseEngine } from "../descriptor.ts";

export const mariadb = databaseEngine({
  name: "mariadb",
  engine: "mariadb",
  packages: ["mariadb-server"],
  // mysqlclient, Django's MariaDB driver, ships no Linux wheels: pip builds it.
  driverBuildPackages: ["build-essential", "pkg-config", "default-libmysqlclient-dev"],
  // Debian's 50-server.cnf leaves `log_error` commented out ("When running under systemd,
  // error logging goes via stdout/stderr to journald"), and our 60-django-fleet.cnf sets
  // none: its error log is in the journal (as `mariadbd`), shipped already.
  logs: [],
});
