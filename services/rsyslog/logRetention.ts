/**
 * The central log server's logrotate config: how long the per-host log files rsyslog
 * writes are kept. Pure.
 */
import { assertInt, assertPath, managedHeader, renderLines, stripTrailingSlash, withDefault } from "../../lib/render.ts";

/** Options for {@link renderLogRetention}. */
export interface LogRetentionOptions {
  /** The central server's log directory (same as the server's `logDir`). */
  readonly logDir: string;
  /**
   * Days of rotated logs kept per file.
   * @default 14
   */
  readonly retentionDays?: number;
}

/** Renders the central server's logrotate config for the per-host log files. */
export function renderLogRetention(o: LogRetentionOptions): string {
  const logDir = stripTrailingSlash(assertPath("log retention logDir", o.logDir));
  const days = assertInt("log retention retentionDays", withDefault(o.retentionDays, 14), 1, 3650);
  return renderLines([
    managedHeader("#"),
    `${logDir === "/" ? "" : logDir}/*/*.log {`,
    "    daily",
    `    rotate ${days}`,
    "    compress",
    // The newest rotated file stays plain for a day, in case a writer still appends to it.
    "    delaycompress",
    "    missingok",
    "    notifempty",
    // rsyslog keeps dynaFile files open; copying then truncating needs no HUP.
    "    copytruncate",
    "}",
  ]);
}
