/**
 * rsyslog on every host, shipping the journal and the services' log files to the logging
 * host, whose rsyslog receives them over TLS and files them (rotated by logrotate).
 * rsyslog-gnutls is the TLS driver (gtls); openssl makes the keys and the stack's CA.
 */
import type { ServiceDescriptor } from "../descriptor.ts";

export const rsyslog: ServiceDescriptor = {
  name: "rsyslog",
  runsOn: () => true,
  packages: ["rsyslog", "rsyslog-gnutls", "openssl", "logrotate"],
  logs: [],
  openings: ({ host, topo, cfg, from }) => host.roles.has("logging") ? [{ port: cfg.logging.port, from: from(topo.hosts), why: "rsyslog over TLS, from every host" }] : [],
};
