/** The `logging` section: the central log server. */
import { z } from "zod";
import { port } from "./primitives.ts";

export const loggingSchema = z.strictObject({
  /** Days of logs the logging server keeps. @default 14 */
  retentionDays: z.number().int().min(1).max(3650).default(14),
  /** TCP port the logging server receives on. @default 10514 */
  port: port.default(10514),
});
