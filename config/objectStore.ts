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

/** The media store, if media lives in S3 (its own target, or the backup target when shared in so many words). */
export function mediaStore(cfg: StackConfig, stack: string): ObjectStore | undefined {
  if (cfg.media.storage !== "s3") return undefined;
  const t = cfg.media.target ?? (cfg.media.shareBackupTarget ? cfg.backup.target : undefined);
  return t && resolveStore(t, stack);
}

/**
 * Whether `field` of the object under the top-level key `django-fleet:<key>` is written
 * in plain text in the stack's config file (Pulumi.<stack>.yaml as Pulumi writes it: a
 * secret leaf is `field:` followed by a nested `secure:` line). Pure.
 */
export function plainInStackFile(text: string, key: string, field: string): boolean {
  const lines = text.split(/\r?\n/);
  const indent = (l: string) => l.length - l.trimStart().length;
  const start = lines.findIndex((l) => l.trimStart().startsWith(`django-fleet:${key}:`));
  if (start < 0) return false;
  for (let i = start + 1; i < lines.length && (lines[i]!.trim() === "" || indent(lines[i]!) > indent(lines[start]!)); i++) {
    const m = new RegExp(`^\\s*["']?${field}["']?:\\s*(.*)$`).exec(lines[i]!);
    if (m && m[1]!.trim() !== "" && !/^\{\s*["']?secure["']?\s*:/.test(m[1]!.trim())) return true;
  }
  return false;
}

/**
 * Object-store keys written in plain text in Pulumi.<stack>.yaml are refused: they would
 * sit readable in the repository. `isSecret` answers for a top-level config key
 * (`django-fleet:backup`), which Pulumi marks secret when any value under it is; so each
 * key is also looked up in the stack's config file (`stackFile`, when it is there).
 */
export function plainCredentialProblems(cfg: StackConfig, isSecret: (key: string) => boolean, stackFile?: string): string[] {
  const problems: string[] = [];
  for (const [key, t] of [["backup", cfg.backup.target], ["media", cfg.media.target]] as const) {
    if (t && !isSecret(`django-fleet:${key}`)) {
      problems.push(`${key}.target.secretAccessKey: is stored in plain text in the stack's config file. Fix: \`npm run pulumi -- config set --secret --path ${key}.target.secretAccessKey <key>\` (and the same for ${key}.target.accessKeyId)`);
    } else if (t && stackFile !== undefined) {
      for (const field of ["accessKeyId", "secretAccessKey"] as const) {
        if (plainInStackFile(stackFile, key, field)) {
          problems.push(`${key}.target.${field}: is stored in plain text in the stack's config file (another value under ${key} is secret, this one is not). Fix: \`npm run pulumi -- config set --secret --path ${key}.target.${field} <key>\``);
        }
      }
    }
  }
  return problems;
}
