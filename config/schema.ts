/**
 * The stack's configuration, one strict zod schema composed from one schema per part.
 * Every key lives under the `django-fleet:` namespace in Pulumi.<stack>.yaml. Unknown
 * keys are errors (a typo must not silently fall back to a default).
 */
import { z } from "zod";
import { hostSchema } from "./schema/hosts.ts";
import { appSchema } from "./schema/app.ts";
import { deploySchema } from "./schema/release.ts";
import { databaseSchema } from "./schema/database.ts";
import { brokerSchema, cacheSchema, celerySchema } from "./schema/brokerCache.ts";
import { loadBalancerSchema } from "./schema/loadBalancer.ts";
import { loggingSchema } from "./schema/logging.ts";
import { backupSchema, mediaSchema } from "./schema/backupMedia.ts";

// The sections, each in its own file under config/schema/; re-exported so importers keep one module.
export { HOST_RE, unixUser } from "./schema/primitives.ts";
export { ROLES, type Role, validHostKey, hostSchema, type HostConfig } from "./schema/hosts.ts";
export { RESERVED_USERS, repoCredentials, appSchema, type AppConfig } from "./schema/app.ts";
export { gunicornSchema, healthCheckSchema, deploySchema } from "./schema/release.ts";
export { databaseSchema } from "./schema/database.ts";
export { brokerSchema, cacheSchema, celerySchema } from "./schema/brokerCache.ts";
export { acmeSchema, loadBalancerSchema, type AcmeConfig } from "./schema/loadBalancer.ts";
export { loggingSchema } from "./schema/logging.ts";
export { objectStoreSchema, type ObjectStoreConfig } from "./schema/objectStore.ts";
export { backupSchema, mediaSchema } from "./schema/backupMedia.ts";

export const stackSchema = z.strictObject({
  /** A JSON inventory ({privateKeyPath, hosts: [{name, address, hostKey, user}]}) that fills in host addresses and keys. @default none */
  inventoryFile: z.string().min(1).optional(),
  /** Path of the SSH private key on the machine running Pulumi. @default the inventory's privateKeyPath */
  sshPrivateKeyPath: z.string().min(1).optional(),
  /** The servers and their roles. */
  hosts: z.array(hostSchema).min(1, "needs at least one host"),
  /** The Django app (shorthand for `apps` with one entry). */
  app: appSchema.optional(),
  /** Several Django apps on the same servers, each with its own user, database, broker account, units and virtual host. */
  apps: z.array(appSchema).min(1, "needs at least one app").optional(),
  /** The app's database. */
  database: databaseSchema.prefault({}),
  /** The Celery broker. */
  broker: brokerSchema.prefault({}),
  /** The Celery workers. */
  celery: celerySchema.prefault({}),
  /** The shared cache (on the host with the "cache" role). */
  cache: cacheSchema.prefault({}),
  /** The nginx load balancer. */
  loadBalancer: loadBalancerSchema.prefault({}),
  /** Central logging. */
  logging: loggingSchema.prefault({}),
  /** Backups of the database (and local media) to an S3-compatible object store. */
  backup: backupSchema.prefault({}),
  /** Where user uploads are stored. */
  media: mediaSchema.prefault({}),
  /** How new releases roll out: batches, drain time, Celery's warm shutdown. */
  deploy: deploySchema.prefault({}),
  /** Protect the database resources against `pulumi destroy` (prod). @default false */
  protectData: z.boolean().default(false),
}).superRefine((c, ctx) => {
  if (!c.app && !c.apps) ctx.addIssue({ code: "custom", path: ["app"], message: "is required (or apps, a list of apps)" });
  if (c.app && c.apps) ctx.addIssue({ code: "custom", path: ["app"], message: "and apps are both set; app is shorthand for apps with one entry. Fix: move it into apps (`npm run pulumi -- config rm app` after copying it as apps[0])" });
});

export type StackConfig = z.infer<typeof stackSchema>;
