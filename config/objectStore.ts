/**
 * The object stores the stack writes to (backups, shared media), resolved from config:
 * endpoint split into host and port, the key prefix, and the rule that their keys are
 * secret config. Pure.
 */
import type { ObjectStoreConfig, StackConfig } from "./schema.ts";

/** An object store with everything the tools need spelled out. */
export interface ObjectStore {
  /** `https://host[:port]`, no trailing slash. */
  readonly endpoint: string;
  /** Endpoint host name or address. */
  readonly host: string;
  /** Endpoint port. @default 443 */
  readonly port: number;
  /** Bucket. */
  readonly bucket: string;
  /** Region. */
  readonly region: string;
  /** Path-style URLs. */
  readonly pathStyle: boolean;
  /** Key prefix, no leading or trailing slash, e.g. `django-fleet/prod`. */
  readonly prefix: string;
  /** Access key id (secret). */
  readonly accessKeyId: string;
  /** Secret access key (secret). */
  readonly secretAccessKey: string;
  /** CA bundle file on the machine running Pulumi, if the server's CA is private. */
  readonly caFile?: string;
}

/** Where the CA bundle of a private object store is put on each host that talks to it. */
export const HOST_CA_FILE = "/etc/django-fleet/object-store-ca.pem";

export function resolveStore(t: ObjectStoreConfig, stack: string): ObjectStore {
  const url = new URL(t.endpoint);
  return {
    endpoint: `https://${url.host}`,
    host: url.hostname,
    port: url.port ? Number(url.port) : 443,
    bucket: t.bucket,
    region: t.region,
    pathStyle: t.pathStyle,
    prefix: t.prefix ?? `django-fleet/${stack}`,
    accessKeyId: t.accessKeyId,
    secretAccessKey: t.secretAccessKey,
    ...(t.caFile ? { caFile: t.caFile } : {}),
  };
}

/** The backup store, if backups are on. */
export function backupStore(cfg: StackConfig, stack: string): ObjectStore | undefined {
  return cfg.backup.target && resolveStore(cfg.backup.target, stack);
}

/** The media store, if media lives in S3 (its own target, else the backup target). */
export function mediaStore(cfg: StackConfig, stack: string): ObjectStore | undefined {
  if (cfg.media.storage !== "s3") return undefined;
  const t = cfg.media.target ?? cfg.backup.target;
  return t && resolveStore(t, stack);
}

/**
 * Object-store keys written in plain text in Pulumi.<stack>.yaml are refused: they would
 * sit readable in the repository. `isSecret` answers for a top-level config key
 * (`django-fleet:backup`), which Pulumi marks secret when any value under it is.
 */
export function plainCredentialProblems(cfg: StackConfig, isSecret: (key: string) => boolean): string[] {
  const problems: string[] = [];
  for (const [key, t] of [["backup", cfg.backup.target], ["media", cfg.media.target]] as const) {
    if (t && !isSecret(`django-fleet:${key}`)) {
      problems.push(`${key}.target.secretAccessKey: is stored in plain text in the stack's config file. Fix: \`npm run pulumi -- config set --secret --path ${key}.target.secretAccessKey <key>\` (and the same for ${key}.target.accessKeyId)`);
    }
  }
  return problems;
}
