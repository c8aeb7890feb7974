/**
 * LoggingServer: central logs. rsyslog on the logging host receives every host's log
 * lines over TLS, both ends authenticated by the stack's own CA, and files them by host and program (/var/log/fleet/<host>/<program>.log)
 * with rotation; every host (the logging host too) forwards everything it logs there
 * through a disk-assisted queue, so lines survive a restart of either side. Services that
 * write log files of their own (PostgreSQL, nginx, RabbitMQ, Redis: config/serviceLogs.ts)
 * are read with imfile on their host and shipped the same way, filed by host and program
 * like the rest. rsyslog on Debian runs as root, so it can read those files.
 *
 * TLS (logTls.ts): the CA lives on the logging host; each host makes its own key and a
 * request, the CA issues its certificate; keys never leave their host. Each of these is
 * a RemoteProbe whose script makes what is missing or expiring and prints the public
 * result, so the certificates and the CA certificate reach the hosts as RemoteFiles.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config/schema.ts";
import { serviceLogsFor } from "../../config/serviceLogs.ts";
import { addressFrom } from "../../config/topology.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderLogRetention } from "./logRetention.ts";
import { renderRsyslogClient, renderRsyslogServer } from "./rsyslog.ts";
import { script } from "../../lib/shell.ts";
import { caScript, hostCsrScript, issueScript, serverCertScript, tlsFiles } from "./logTls.ts";
import type { Host } from "../../components/host.ts";
import { LOGGING_FILES } from "../../plan/files.ts";
import { logSenders } from "../../plan/listen.ts";

export const LOG_DIR = LOGGING_FILES.logDir;

export interface LoggingServerArgs {
  /** The logging host. */
  readonly host: Host;
  /** Every host in the fleet (all ship their logs). */
  readonly hosts: readonly Host[];
  /** Port to receive on. @default 10514 */
  readonly port?: number;
  /** Days of logs kept. @default 14 */
  readonly retentionDays?: number;
  /**
   * The stack's services, to ship each host's service log files too (by its roles).
   * @default none: only the journal is shipped
   */
  readonly config?: Pick<StackConfig, "database" | "broker" | "cache">;
}

export class LoggingServer extends pulumi.ComponentResource {
  /** `address:port` the hosts ship to. */
  public readonly endpoint: string;

  constructor(name: string, args: LoggingServerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:LoggingServer", name, {}, opts);
    const server = args.host;
    const port = args.port ?? 10514;
    const senders = logSenders(args.hosts.map((h: Host) => h.plan));
    // The stack's CA and the server's certificate, made on the logging host.
    const ca = server.probe<string>(`${name}-ca`, { probe: caScript(pulumi.getStack()), description: "the logs CA" }, { parent: this });
    const serverCert = server.probe<string>(`${name}-server-cert`, {
      probe: ca.value.apply(serverCertScript), description: "the logging server's certificate",
    }, { parent: this, dependsOn: ca });
    const serverConf = renderRsyslogServer({ port, logDir: LOG_DIR, allowedSenders: senders });
    const serverFile = server.file(`${name}-server-conf`, { path: LOGGING_FILES.serverConf, content: serverConf }, { parent: this });
    const retention = renderLogRetention({ logDir: LOG_DIR, retentionDays: args.retentionDays });
    server.file(`${name}-retention`, { path: LOGGING_FILES.retention, content: retention }, { parent: this });

    for (const h of args.hosts) {
      const isServer = h.plan.name === server.plan.name;
      const files = args.config === undefined ? [] : serviceLogsFor(h.plan.roles, args.config);
      const forward = renderRsyslogClient({ serverAddress: addressFrom(h.plan, server.plan), port, files });
      const forwardFile = h.file(`${name}-ship-${h.plan.name}`, { path: LOGGING_FILES.forwardConf, content: forward }, { parent: this });
      // The host's key stays on it; its request goes to the CA, the certificate comes back.
      const csr = h.probe<string>(`${name}-csr-${h.plan.name}`, { probe: hostCsrScript(h.plan.name), description: "the host's logs key and request" }, { parent: this });
      const issued = server.probe<string>(`${name}-issue-${h.plan.name}`, {
        probe: pulumi.all([csr.value, ca.value]).apply(([req, caPem]) => issueScript(h.plan.name, req, caPem)),
        description: `the logs certificate of ${h.plan.name}`,
      }, { parent: this, dependsOn: [ca, csr] });
      const caFile = h.file(`${name}-ca-${h.plan.name}`, { path: tlsFiles.ca, content: ca.value }, { parent: this, dependsOn: csr });
      const certFile = h.file(`${name}-cert-${h.plan.name}`, { path: tlsFiles.hostCert, content: issued.value }, { parent: this, dependsOn: csr });
      const loaded = [forwardFile, caFile, certFile, ...(isServer ? [serverFile] : [])];
      // rsyslogd -N1 reads the whole config (and the TLS files) before any restart.
      const checked = h.script(`${name}-check-${h.plan.name}`, {
        create: script(`out=$(rsyslogd -N1 -f /etc/rsyslog.conf 2>&1) || { printf '%s\\n' "$out" | tail -n 20 >&2; exit 1; }`),
        triggers: {
          forward: shortHash(forward), ca: ca.value.apply(shortHash), cert: issued.value.apply(shortHash),
          ...(isServer ? { server: shortHash(serverConf), serverCert: serverCert.value.apply(shortHash) } : {}),
        },
        description: "check the rsyslog config",
      }, { parent: this, dependsOn: [...loaded, ...(isServer ? [serverCert] : [])] });
      // One rsyslog service resource per host (on the logging host it also restarts for
      // the server config); clients wait for the server config, so it listens first.
      h.service(`${name}-rsyslog-${h.plan.name}`, {
        unit: "rsyslog.service", stopOnDelete: false,
        restartOn: {
          "90-django-fleet-forward.conf": shortHash(forward),
          "ca.crt": ca.value.apply(shortHash),
          "host.crt": issued.value.apply(shortHash),
          ...(isServer ? { "10-django-fleet-server.conf": shortHash(serverConf), "server.crt": serverCert.value.apply(shortHash) } : {}),
        },
        loads: loaded.map((file) => ({ file, then: "restart" as const })),
      }, { parent: this, dependsOn: [checked, serverFile, serverCert] });
    }
    this.endpoint = `${server.plan.privateAddress}:${port}`;
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
