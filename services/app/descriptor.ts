/**
 * The app: its code, virtualenv and gunicorn, on every host that runs the code (not on a
 * load balancer of its own: it gets the collected static files only). gunicorn logs to the journal.
 */
import { configApps } from "../../config/apps.ts";
import { databaseEngineOf } from "../databases.ts";
import { runsCode, type ServiceDescriptor } from "../descriptor.ts";

export const app: ServiceDescriptor = {
  name: "app",
  runsOn: (roles) => runsCode(roles),
  packages: ["git", "python3-venv", "python3-dev"],
  // The database driver's build dependencies, and what the apps ask for (app.packages, e.g.
  // libpq-dev to build psycopg[c]): every app's, on every host that runs code (a few more
  // packages, one apt run).
  morePackages: (cfg) => [...databaseEngineOf(cfg).driverBuildPackages, ...configApps(cfg).flatMap((a) => a.packages)],
  logs: [],
  // Each app's gunicorn, to the load balancer only, on the hosts that serve that app.
  openings: ({ host, topo, from }) => topo.loadBalancer
    ? topo.deployments.filter((d) => d.appHosts.some((h) => h.name === host.name))
      .map((d) => ({ port: d.app.port, from: from([topo.loadBalancer!]), why: `gunicorn of ${d.app.name}, from the load balancer` }))
    : [],
};
