/** A host's logging: the log server where the plan puts it, and every host's forwarding to it. */
import { serviceLogsFor } from "../../../config/serviceLogs.ts";
import { renderLogRetention } from "../../../services/rsyslog/logRetention.ts";
import { renderRsyslogClient, renderRsyslogServer } from "../../../services/rsyslog/rsyslog.ts";
import { file, service, type HostContext } from "./context.ts";

/** Renders the host's rsyslog files and unit, if the plan gives it logging. */
export function renderLogging({ plan, hp, cfg, add, at }: HostContext): void {
  // Logging (services/rsyslog/loggingServer.ts).
  if (!hp.logging) return;
  const lg = hp.logging;
  const logFiles: string[] = [];
  let rsServer: string | undefined;
  if (lg.server) {
    rsServer = add(file("rsyslog-server", lg.server.conf,
      renderRsyslogServer({ port: lg.port, logDir: lg.server.logDir, allowedSenders: lg.server.allowedSenders })));
    logFiles.push(rsServer, add(file("log-retention", lg.server.retention,
      renderLogRetention({ logDir: lg.server.logDir, retentionDays: cfg.logging.retentionDays }))));
  }
  const rsForward = add(file("rsyslog-forward", lg.forwardConf,
    renderRsyslogClient({ serverAddress: lg.shipsTo, port: lg.port, files: serviceLogsFor(plan.roles, cfg) })));
  logFiles.push(rsForward);
  at("services", { kind: "files", id: "logging-files", files: logFiles },
    service("rsyslog", "rsyslog.service", { restartOn: [...(rsServer ? [rsServer] : []), rsForward] }));
}
