/**
 * gunicorn's own config file. Tunables live here rather than on the unit's ExecStart
 * line because gunicorn re-reads this file on HUP: changing `workers` is a graceful
 * reload (new workers up, old ones drained), not a restart that drops requests.
 */
import { assertHost, assertInt, assertPort, hostPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** Options for {@link renderGunicornConf}. */
export interface GunicornConfOptions {
  /** Address gunicorn binds to (loopback when the load balancer is on the same host). */
  readonly bindAddress: string;
  /** Port gunicorn binds to. */
  readonly port: number;
  /** Worker processes. @default 3 */
  readonly workers?: number;
  /** Seconds a worker may spend on one request before it is killed. @default 30 */
  readonly timeoutSeconds?: number;
  /** Requests a worker serves before it is recycled (bounds leaks). @default 1000 */
  readonly maxRequests?: number;
}

/** Renders gunicorn.conf.py (Python syntax) for `gunicorn --config`. */
export function renderGunicornConf(o: GunicornConfOptions): string {
  const bind = hostPort(assertHost("gunicorn bindAddress", o.bindAddress), assertPort("gunicorn port", o.port));
  const workers = assertInt("gunicorn workers", withDefault(o.workers, 3), 1, 1024);
  const timeout = assertInt("gunicorn timeoutSeconds", withDefault(o.timeoutSeconds, 30), 1, 86400);
  const maxRequests = assertInt("gunicorn maxRequests", withDefault(o.maxRequests, 1000), 0, 10_000_000);
  return renderLines([
    managedHeader("#"),
    `bind = ${JSON.stringify(bind)}`,
    `workers = ${workers}`,
    `timeout = ${timeout}`,
    `max_requests = ${maxRequests}`,
    // Jitter spreads worker recycling so they do not all restart at once.
    `max_requests_jitter = ${Math.floor(maxRequests / 10)}`,
    `graceful_timeout = ${timeout}`,
    // Logs to stdout/stderr, i.e. journald, which rsyslog forwards to the logging server.
    `accesslog = "-"`,
    `errorlog = "-"`,
  ]);
}
