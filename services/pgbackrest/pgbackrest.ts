/**
 * /etc/pgbackrest/pgbackrest.conf: one S3 repository, encrypted, for one stanza. The file
 * holds the repository's keys and cipher passphrase, so it is written 0640 root:postgres
 * and the tools read it themselves; nothing secret ever reaches an argv.
 */
import { assertHost, assertInt, assertMatches, assertName, assertPath, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** Options for {@link renderPgBackRestConf}. */
export interface PgBackRestConfOptions {
  /** Stanza (pgBackRest's name for the cluster in the repository), e.g. `django-fleet`. */
  readonly stanza: string;
  /** The cluster's data directory (`pg1-path`), e.g. `/var/lib/postgresql/17/main`. */
  readonly pgPath: string;
  /**
   * The cluster's port (`pg1-port`).
   * @default 5432
   */
  readonly pgPort?: number;
  /** S3 endpoint host, an IP address or DNS name without scheme or port (`repo1-s3-endpoint`). */
  readonly endpoint: string;
  /**
   * S3 endpoint port (`repo1-storage-port`).
   * @default 443
   */
  readonly port?: number;
  /** Bucket (`repo1-s3-bucket`); it must exist. */
  readonly bucket: string;
  /** Region (`repo1-s3-region`); self-hosted servers accept any, e.g. `us-east-1`. */
  readonly region: string;
  /** Path-style requests (`repo1-s3-uri-style=path`), which MinIO, Garage and versitygw need; else `host`. */
  readonly pathStyle: boolean;
  /** Repository path inside the bucket (`repo1-path`), absolute, e.g. `/django-fleet/prod/pgbackrest`. */
  readonly repoPath: string;
  /**
   * CA bundle that signs the endpoint's certificate (`repo1-storage-ca-file`).
   * @default the system's CAs (line omitted)
   */
  readonly caFile?: string;
  /** S3 access key id (`repo1-s3-key`); secret. */
  readonly accessKeyId: string;
  /** S3 secret access key (`repo1-s3-key-secret`); secret. */
  readonly secretAccessKey: string;
  /** Repository encryption passphrase (`repo1-cipher-pass`, aes-256-cbc); secret, and losing it loses every backup. */
  readonly cipherPass: string;
  /**
   * Parallel compression/transfer processes for backup and restore (`process-max`).
   * @default 2
   */
  readonly processMax?: number;
  /**
   * How many of the newest full backups keep the complete WAL stream for point-in-time
   * recovery (`repo1-retention-archive`, type full). Pass the daily retention count; at
   * least 1 (pgBackRest's minimum). Older fulls kept by the weekly/monthly rules keep only
   * the WAL that makes them consistent.
   */
  readonly archiveRetentionFulls: number;
}

/** An S3 bucket name (the DNS-compatible rules every S3 service accepts). */
export const S3_BUCKET = /^(?!xn--)(?!.*\.\.)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** An S3 region name. */
export const S3_REGION = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * pgBackRest's ini parser splits a line at its first `=` and trims both sides, and reads
 * a `#` only at the start of a line: so `=` and `#` inside a value are fine, but a line
 * break would start a new key, and edge whitespace would be silently dropped. Those are
 * refused rather than escaped (the format has no escapes).
 */
function assertIniValue(what: string, value: string): string {
  if (value === "" || /[\x00-\x1f\x7f]/.test(value) || value.trim() !== value) {
    // Never echo the value: these are secrets.
    throw new Error(`${what} is invalid: expected a non-empty value without control characters (line breaks) or leading/trailing spaces`);
  }
  return value;
}

/** Renders /etc/pgbackrest/pgbackrest.conf. */
export function renderPgBackRestConf(o: PgBackRestConfOptions): string {
  const stanza = assertName("pgbackrest stanza", o.stanza);
  const pgPath = assertPath("pgbackrest pgPath", o.pgPath);
  const pgPort = assertPort("pgbackrest pgPort", withDefault(o.pgPort, 5432));
  const endpoint = assertHost("pgbackrest endpoint", o.endpoint);
  const port = assertPort("pgbackrest port", withDefault(o.port, 443));
  const bucket = assertMatches("pgbackrest bucket", o.bucket, S3_BUCKET, "an S3 bucket name (3-63 lower-case letters, digits, dots and dashes)");
  const region = assertMatches("pgbackrest region", o.region, S3_REGION, "a region name like eu-central-1");
  const repoPath = assertPath("pgbackrest repoPath", o.repoPath);
  const caFile = o.caFile === undefined ? undefined : assertPath("pgbackrest caFile", o.caFile);
  const key = assertIniValue("pgbackrest accessKeyId", o.accessKeyId);
  const secret = assertIniValue("pgbackrest secretAccessKey", o.secretAccessKey);
  const cipherPass = assertIniValue("pgbackrest cipherPass", o.cipherPass);
  const processMax = assertInt("pgbackrest processMax", withDefault(o.processMax, 2), 1, 999);
  const archiveFulls = assertInt("pgbackrest archiveRetentionFulls", o.archiveRetentionFulls, 1, 9999999);
  return renderLines([
    managedHeader("#"),
    "[global]",
    "repo1-type=s3",
    `repo1-path=${repoPath}`,
    `repo1-s3-endpoint=${endpoint}`,
    `repo1-storage-port=${port}`,
    `repo1-s3-bucket=${bucket}`,
    `repo1-s3-region=${region}`,
    `repo1-s3-uri-style=${o.pathStyle ? "path" : "host"}`,
    caFile !== undefined && `repo1-storage-ca-file=${caFile}`,
    `repo1-s3-key=${key}`,
    `repo1-s3-key-secret=${secret}`,
    "repo1-cipher-type=aes-256-cbc",
    `repo1-cipher-pass=${cipherPass}`,
    "",
    // Daily/weekly/monthly retention is enforced by pgbackrest-gfs.py, which expires the
    // full backups it does not keep with `expire --set`. pgBackRest only counts backups, so
    // its own full retention is set to its maximum: it must never expire anything itself.
    "repo1-retention-full-type=count",
    "repo1-retention-full=9999999",
    // WAL for point-in-time recovery is kept from the Nth newest full backup on, N being
    // the daily count: with one scheduled full a day that is PITR over the daily window,
    // and the older weekly/monthly fulls keep just the WAL that makes them consistent
    // (keeping WAL back to the oldest monthly would cost months of WAL). The count is of
    // backups, not days: extra manual fulls shorten the PITR window accordingly, and
    // pgBackRest's automatic expire after each backup applies it before the planner
    // removes same-day duplicates.
    "repo1-retention-archive-type=full",
    `repo1-retention-archive=${archiveFulls}`,
    "",
    `process-max=${processMax}`,
    "compress-type=zst",
    // A checkpoint right away: a scheduled backup should not wait for the next one.
    "start-fast=y",
    "log-level-console=info",
    // Output goes to the journal through the units; no second log under /var/log.
    "log-level-file=off",
    "log-level-stderr=warn",
    "",
    `[${stanza}]`,
    `pg1-path=${pgPath}`,
    `pg1-port=${pgPort}`,
  ]);
}
