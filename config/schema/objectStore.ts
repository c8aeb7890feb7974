/** An S3-compatible object store, as backup.target and media.target name one. */
import { z } from "zod";

/** An S3 bucket name (the DNS-compatible rules every S3 service accepts). */
const BUCKET_RE = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** An S3-compatible object store: where backups (and shared media) go. */
export const objectStoreSchema = z.strictObject({
  /** HTTPS endpoint, e.g. `https://s3.eu-central-1.amazonaws.com` or `https://minio.internal:9000`. */
  endpoint: z.string().regex(/^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/?$/, "must be an https:// URL of a host (and port), with no path: pgBackRest talks TLS only"),
  /** Bucket; it must exist. */
  bucket: z.string().regex(BUCKET_RE, "must be an S3 bucket name (3-63 lower-case letters, digits, dots and dashes)"),
  /** Region the bucket is in (any value for most self-hosted servers). @default "us-east-1" */
  region: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be a region name like eu-central-1").default("us-east-1"),
  /** Path-style URLs (`endpoint/bucket/key`), which MinIO, Garage and versitygw need. @default false (virtual-hosted, as AWS) */
  pathStyle: z.boolean().default(false),
  /** Key prefix inside the bucket, so several stacks can share one bucket. @default "django-fleet/<stack>" */
  prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, "must be slash-separated segments of letters, digits, . _ and -").optional(),
  /** Access key id; keep it secret config (`config set --secret --path`). */
  accessKeyId: z.string().regex(/^[\x21-\x7e]{1,256}$/, "must be printable ASCII without spaces"),
  /** Secret access key; must be secret config. */
  secretAccessKey: z.string().regex(/^[\x21-\x7e]{1,256}$/, "must be printable ASCII without spaces"),
  /** A PEM CA bundle on this machine for a server with a private CA; copied to the hosts. @default the system's CAs */
  caFile: z.string().min(1).optional(),
});

export type ObjectStoreConfig = z.infer<typeof objectStoreSchema>;
