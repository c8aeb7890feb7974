/** The `broker`, `cache` and `celery` sections: Celery's broker and workers, and the shared cache. */
import { z } from "zod";

export const brokerSchema = z.strictObject({
  /** Broker for Celery. @default "rabbitmq" */
  kind: z.enum(["rabbitmq", "redis"]).default("rabbitmq"),
});

export const cacheSchema = z.strictObject({
  /** Shared cache for the app: none, Redis (password-protected), or memcached (private network only). @default "none" */
  kind: z.enum(["none", "redis", "memcached"]).default("none"),
});

export const celerySchema = z.strictObject({
  /** Worker processes per worker host. @default 2 */
  concurrency: z.number().int().min(1).max(64).default(2),
  /** Queues the workers consume. @default ["celery"] */
  queues: z.array(z.string().regex(/^[\w.-]+$/, "must be a queue name of letters, digits, _ . and -")).min(1).default(["celery"]),
});
