/**
 * restic's environment file and the lines that make restic usable in a script. Secrets
 * live only in the env file, which restic and the scripts read themselves: nothing else
 * rendered for backups takes a secret, so no unit or script can put one in an argv or a
 * log line.
 */
import { cmd, quote } from "../../lib/shell.ts";
import { quoteEnvValue } from "../app/envFile.ts";
import { assertHost, assertMatches, assertPath, assertPort, managedHeader, renderLines } from "../../lib/render.ts";
import { S3_BUCKET, S3_REGION } from "../pgbackrest/pgbackrest.ts";

/** Options for {@link renderResticEnv}. */
export interface ResticEnvOptions {
  /**
   * `RESTIC_REPOSITORY`: `s3:https://<host>[:<port>]/<bucket>/<prefix>`, e.g.
   * `s3:https://s3.example.net:7070/backups/django-fleet/prod/restic`. The host is an IPv4
   * address or DNS name; the prefix is one or more segments of `[A-Za-z0-9._-]`.
   */
  readonly repository: string;
  /**
   * CA bundle that signs the endpoint's certificate (`RESTIC_CACERT`).
   * @default the system's CAs (no line)
   */
  readonly caFile?: string;
  /** S3 region (`AWS_DEFAULT_REGION`). */
  readonly region: string;
  /** S3 access key id (secret). */
  readonly accessKeyId: string;
  /** S3 secret access key (secret). */
  readonly secretAccessKey: string;
  /** The repository's password (secret): restic encrypts with it; losing it loses every backup. */
  readonly password: string;
}

/** `s3:https://host[:port]/bucket/prefix`, split into its parts for checking. */
const RESTIC_S3 = /^s3:https:\/\/([A-Za-z0-9.-]+)(?::(\d{1,5}))?\/([^/]+)\/(.+)$/;
const KEY_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

/**
 * Renders restic's environment file (0600 root), read both by `set -a; . file` in the
 * backup script and by a systemd `EnvironmentFile=`: every value is double-quoted with
 * `"`, `\`, `` ` `` and `$` escaped, which both read the same way. Values with control
 * characters (line breaks) are refused.
 */
export function renderResticEnv(o: ResticEnvOptions): string {
  const m = RESTIC_S3.exec(o.repository);
  if (m === null) {
    throw new Error(`restic repository ${JSON.stringify(o.repository)} is invalid: expected s3:https://<host>[:<port>]/<bucket>/<prefix>`);
  }
  assertHost("restic repository host", m[1] ?? "");
  if (m[2] !== undefined) assertPort("restic repository port", Number(m[2]));
  assertMatches("restic repository bucket", m[3] ?? "", S3_BUCKET, "an S3 bucket name (3-63 lower-case letters, digits, dots and dashes)");
  assertMatches("restic repository prefix", m[4] ?? "", KEY_PREFIX, "slash-separated segments of letters, digits, '.', '_' and '-', without a trailing slash");
  const region = assertMatches("restic region", o.region, S3_REGION, "a region name like eu-central-1");
  const caFile = o.caFile === undefined ? undefined : assertPath("restic caFile", o.caFile);
  const line = (key: string, value: string) => `${key}=${quoteEnvValue(value)}`;
  return renderLines([
    managedHeader("#"),
    line("RESTIC_REPOSITORY", o.repository),
    line("RESTIC_PASSWORD", checkSecret("restic password", o.password)),
    line("AWS_ACCESS_KEY_ID", checkSecret("restic accessKeyId", o.accessKeyId)),
    line("AWS_SECRET_ACCESS_KEY", checkSecret("restic secretAccessKey", o.secretAccessKey)),
    line("AWS_DEFAULT_REGION", region),
    // restic reads RESTIC_CACERT itself from 0.16 on; the backup script also passes it as
    // --cacert for older ones (Debian 12 has 0.14).
    caFile !== undefined && line("RESTIC_CACERT", caFile),
  ]);
}

/** A secret for an env file: non-empty, no control characters. Never echoed in the error. */
function checkSecret(what: string, value: string): string {
  if (value === "" || /[\x00-\x1f\x7f\uFEFF]|\p{Surrogate}/u.test(value)) {
    throw new Error(`${what} is invalid: expected a non-empty value without control characters (line breaks)`);
  }
  return value;
}

/**
 * The lines that make restic usable in a script: the repository, its password and the S3
 * keys from the env file (never from argv), and `r`, restic with the bucket lookup and
 * the CA as a flag (restic reads RESTIC_CACERT itself only from 0.16; Debian 12 has 0.14).
 */
export function resticPrelude(envFile: string, pathStyle: boolean): string[] {
  return [
    "set -a",
    `. ${quote(assertPath("restic envFile", envFile))}`,
    "set +a",
    pathStyle ? "restic_opts=(-o s3.bucket-lookup=path)" : "restic_opts=()",
    `if [ -n "\${RESTIC_CACERT:-}" ]; then restic_opts+=(--cacert "$RESTIC_CACERT"); fi`,
    `r() { restic "\${restic_opts[@]}" "$@"; }`,
  ];
}

/** Sets `n` to the number of snapshots of this host and tag; a repository that cannot be read fails the script. */
export function resticSnapshotCount(host: string, tag: string): string {
  return `n=$(r ${cmd("snapshots", "--json", "--host", host, "--tag", tag)} | python3 -c 'import json,sys; print(len(json.load(sys.stdin) or []))')`;
}
