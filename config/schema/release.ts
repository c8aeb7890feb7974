/** How an app's release is served and rolled out: gunicorn, the health gate, the `deploy` section. */
import { z } from "zod";

export const gunicornSchema = z.strictObject({
  /** Worker processes. @default 3 */
  workers: z.number().int().min(1).max(64).default(3),
  /** Seconds before a silent worker is killed and restarted. @default 30 */
  timeoutSeconds: z.number().int().min(1).max(3600).default(30),
  /** Requests a worker serves before it is recycled (0: never). @default 1000 */
  maxRequests: z.number().int().min(0).max(10_000_000).default(1000),
});

/** What an app node must answer after it switched to a new release (the health gate). */
export const healthCheckSchema = z.strictObject({
  /** Path requested on the node itself, with its own address as Host. @default "/" */
  path: z.string().regex(/^\/[\x21-\x7e]*$/, "must be a URL path starting with / (e.g. /healthz), without spaces").default("/"),
  /** The status the check expects. @default any 2xx or 3xx */
  status: z.number().int().min(100).max(599).optional(),
  /** Seconds the node has to pass the check before it is switched back. @default 60 */
  timeoutSeconds: z.number().int().min(1).max(3600).default(60),
});

/** How a new release rolls out over the app nodes. */
export const deploySchema = z.strictObject({
  /** App nodes switched at once; the next batch waits for this one's health gate. @default 1 */
  batchSize: z.number().int().min(1, "must be at least 1 (app nodes switched at once)").default(1),
  /** Seconds a node stays out of the load balancer before it restarts, so requests in flight finish. @default 5 */
  drainSeconds: z.number().min(0).max(3600).default(5),
  /** Seconds a Celery worker has to finish its running tasks when it restarts onto a new release. @default 60 */
  celeryStopTimeoutSeconds: z.number().int().min(1).max(86_400).default(60),
});
