/**
 * A real S3-compatible object store for tests (scripts/s3serve: versitygw over HTTPS with
 * its own CA), for backups (pgBackRest, restic) and Django media (django-storages).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./pulumi.ts";

/** The state folder of the default instance (scripts/s3serve's DJANGO_FLEET_S3SERVE_DIR default). */
export const DEFAULT_STATE_DIR = "/run/django-fleet-s3serve";

export interface ObjectStoreOptions {
  /**
   * `IPV4:PORT` to listen on; the address must be configured on this machine.
   * @default "198.18.0.1:9000", the test bridge's host address (needs `scripts/testhosts up`)
   */
  readonly listen?: string;
  /**
   * State folder of the instance (pid, log, CA, credentials, objects). Another folder is
   * another instance, so a test can run its own without touching the shared one.
   * @default DEFAULT_STATE_DIR
   */
  readonly stateDir?: string;
}

/** What `scripts/s3serve env` prints. */
interface ObjectStoreEnv {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  caFile: string;
}

export interface ObjectStore {
  /** `https://ADDR:PORT`, with a certificate for ADDR (as IP and DNS name), 127.0.0.1 and localhost. */
  readonly endpoint: string;
  /** The region clients must sign for: `us-east-1`. */
  readonly region: string;
  /** The root access key id (random, made once per state folder). */
  readonly accessKeyId: string;
  /** The root secret access key (random, made once per state folder; a test credential). */
  readonly secretAccessKey: string;
  /** Absolute path of the CA certificate (PEM) that signed the server certificate. */
  readonly caFile: string;
  /** The CA certificate itself (PEM), to install on test hosts or hand to `https.request`. */
  readonly caPem: string;
  /** The address the store listens on (an IPv4 address). */
  readonly host: string;
  /** The port the store listens on. */
  readonly port: number;
  /** The instance's state folder (`versitygw.pid`, `credentials`, `ca.crt`, `data/`, ...). */
  readonly stateDir: string;
  /** Creates bucket `name` unless it exists. */
  createBucket(name: string): Promise<void>;
  /** The object keys in `bucket` (under `prefix`), in the store's (lexical) order. */
  listKeys(bucket: string, prefix?: string): Promise<string[]>;
  /** The pid of the running versitygw. */
  pid(): number;
  /** Stops the store; `wipe` also deletes its objects, credentials and CA. */
  stop(options?: { readonly wipe?: boolean }): Promise<void>;
}

function isEnv(v: unknown): v is ObjectStoreEnv {
  if (typeof v !== "object" || v === null) return false;
  const o = v as Record<string, unknown>;
  return ["endpoint", "region", "accessKeyId", "secretAccessKey", "caFile"].every((k) => typeof o[k] === "string");
}

/**
 * Runs `scripts/s3serve up` (building versitygw on first use, ~5 min) and returns the
 * running store. Idempotent: an instance already running on the same address is reused.
 */
export async function startObjectStore(opts: ObjectStoreOptions = {}): Promise<ObjectStore> {
  const stateDir = opts.stateDir ?? DEFAULT_STATE_DIR;
  const env = { ...process.env, DJANGO_FLEET_S3SERVE_DIR: stateDir };
  /**
   * Runs scripts/s3serve; returns its stdout. Its stderr (progress such as "building
   * versitygw", and errors) goes to this process's stderr as it comes, and into the error.
   */
  const s3serve = (args: string[], timeoutMs = 60_000): Promise<string> => new Promise((resolve, reject) => {
    const child = spawn(join(ROOT, "scripts/s3serve"), args, { env, stdio: ["ignore", "pipe", "pipe"], timeout: timeoutMs });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); process.stderr.write(b); });
    child.once("error", reject);
    child.once("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(new Error(`scripts/s3serve ${args.join(" ")} failed (${signal ?? `exit ${code}`}):\n${stdout}${stderr}`));
    });
  });
  // The first run builds versitygw from Go modules.
  await s3serve(["up", ...(opts.listen ? ["--listen", opts.listen] : [])], 20 * 60_000);
  const parsed: unknown = JSON.parse(await s3serve(["env"]));
  if (!isEnv(parsed)) throw new Error(`scripts/s3serve env printed an unexpected shape: ${JSON.stringify(parsed)}`);
  const url = new URL(parsed.endpoint);
  return {
    ...parsed,
    caPem: readFileSync(parsed.caFile, "utf8"),
    host: url.hostname,
    port: Number(url.port),
    stateDir,
    async createBucket(name) {
      await s3serve(["bucket", name]);
    },
    async listKeys(bucket, prefix) {
      const out = await s3serve(["ls", bucket, ...(prefix === undefined ? [] : [prefix])]);
      return out.split("\n").filter((l) => l !== "");
    },
    pid() {
      return Number(readFileSync(join(stateDir, "versitygw.pid"), "utf8").trim());
    },
    async stop(options = {}) {
      await s3serve(["down", ...(options.wipe ? ["--wipe"] : [])]);
    },
  };
}

/**
 * A store with no objects: whatever an earlier, interrupted run left (repositories
 * encrypted with another stack's key, say) is wiped first.
 */
export async function freshObjectStore(opts: ObjectStoreOptions = {}): Promise<ObjectStore> {
  await (await startObjectStore(opts)).stop({ wipe: true });
  return startObjectStore(opts);
}
