/**
 * rsyslog on every host, shipping the journal and the services' log files to the logging
 * host, whose rsyslog receives them over TCP and files them (rotated by logrotate).
 */
import type { ServiceDescriptor } from "../descriptor.ts";

export const rsyslog: ServiceDescriptor = {
  name: "rsyslog",
  runsOn: () => true,
  packages: ["rsyslog", "logrotate"],
  logs: [],
  openings: ({ host, topo, cfg, from }) => host.roles.has("logging") ? [{ port: cfg.logging.port, from: from(topo.hosts), why: "rsyslog, from every host" }] : [],
};
