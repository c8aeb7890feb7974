/**
 * scripts/s3serve for real: versitygw on loopback over HTTPS with its own CA, in a state
 * folder of its own (so it needs no test hosts and leaves a shared instance alone).
 * Requests are signed with SigV4 by curl and TLS is verified against the CA (never -k).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { startObjectStore, type ObjectStore } from "../helpers/objectStore.ts";
import { ROOT } from "../helpers/pulumi.ts";
import { freePort } from "../helpers/sshd.ts";

const execFileP = promisify(execFile);


interface Run { code: number; stdout: string; stderr: string }

async function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  try {
    const { stdout, stderr } = await execFileP(cmd, args, { encoding: "utf8", env, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? String(e) };
  }
}

describe("scripts/s3serve: a real S3 store over HTTPS", () => {
  let store: ObjectStore;
  let dir: string;
  let stateDir: string;
  let listen: string;
  const bucket = "fleet-smoke";

  /** A 0600 curl config with `user = "id:secret"`, so no secret is on curl's command line. */
  const curlConf = (name: string, id: string, secret: string): string => {
    const f = join(dir, name);
    writeFileSync(f, `user = "${id}:${secret}"\n`, { mode: 0o600 });
    return f;
  };
  /** curl with SigV4 and the CA; prints the HTTP status on the last line. */
  const s3curl = (conf: string, args: string[]): Promise<Run> =>
    run("curl", ["-sS", "--cacert", store.caFile, "-K", conf, "--aws-sigv4", `aws:amz:${store.region}:s3`, "-w", "\n%{http_code}", ...args]);
  const status = (r: Run): string => r.stdout.trim().split("\n").pop() ?? "";
  const s3serve = (args: string[]): Promise<Run> =>
    run(join(ROOT, "scripts/s3serve"), args, { ...process.env, DJANGO_FLEET_S3SERVE_DIR: stateDir });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleet-s3-"));
    stateDir = join(dir, "state");
    listen = `127.0.0.1:${await freePort()}`;
    // Cold, this builds versitygw from Go modules first (~5 min on 2 cores).
    store = await startObjectStore({ listen, stateDir });
  }, 25 * 60_000);

  afterAll(async () => {
    await store?.stop({ wipe: true }).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it("reports the endpoint, region, credentials and CA", () => {
    expect(store.endpoint).toBe(`https://${listen}`);
    expect(store.host).toBe("127.0.0.1");
    expect(`${store.host}:${store.port}`).toBe(listen);
    expect(store.region).toBe("us-east-1");
    expect(store.accessKeyId).toMatch(/^[A-Z0-9]{16,}$/);
    expect(store.secretAccessKey).toMatch(/^[0-9a-f]{40}$/);
    expect(store.caFile).toBe(join(stateDir, "ca.crt"));
    expect(store.caPem).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });

  it("serves a certificate that the CA verifies for the address, and only the CA", async () => {
    // Node's own TLS, trusting caPem alone, checking the host name against the IP SAN.
    const health = await new Promise<number>((resolve, reject) => {
      const req = request({ host: store.host, port: store.port, path: "/health", ca: store.caPem, timeout: 10_000 }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(health).toBe(200);
    // Without the CA, curl refuses the certificate (60: peer certificate cannot be authenticated).
    const r = await run("curl", ["-sS", "-o", "/dev/null", `${store.endpoint}/health`]);
    expect(r.code).toBe(60);
    // pgBackRest matches the host against DNS names: the address is one too.
    const text = (await run("openssl", ["x509", "-noout", "-ext", "subjectAltName", "-in", join(stateDir, "server.crt")])).stdout;
    expect(text).toContain("IP Address:127.0.0.1");
    expect(text).toContain("DNS:127.0.0.1");
    expect(text).toContain("DNS:localhost");
  });

  it("creates a bucket, and again is a no-op", async () => {
    await store.createBucket(bucket);
    await store.createBucket(bucket);
    const conf = curlConf("good.conf", store.accessKeyId, store.secretAccessKey);
    const head = await s3curl(conf, ["-I", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", `${store.endpoint}/${bucket}`]);
    expect(status(head)).toBe("200");
    expect(await store.listKeys(bucket)).toEqual([]);
  });

  it("stores and returns an object (SigV4 with the payload's sha256, TLS verified)", async () => {
    const body = randomBytes(64 * 1024);
    const file = join(dir, "obj.bin");
    writeFileSync(file, body);
    const sha = createHash("sha256").update(body).digest("hex");
    const conf = curlConf("good.conf", store.accessKeyId, store.secretAccessKey);
    const put = await s3curl(conf, ["-o", "/dev/null", "-T", file, "-H", `x-amz-content-sha256: ${sha}`, `${store.endpoint}/${bucket}/backup/obj.bin`]);
    expect(put.stderr).toBe("");
    expect(status(put)).toBe("200");
    const out = join(dir, "got.bin");
    const get = await s3curl(conf, ["-o", out, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", `${store.endpoint}/${bucket}/backup/obj.bin`]);
    expect(status(get)).toBe("200");
    expect(readFileSync(out).equals(body)).toBe(true);
  });

  it("refuses a wrong secret (403) and an unknown access key", async () => {
    const wrongSecret = curlConf("bad-secret.conf", store.accessKeyId, "0".repeat(40));
    const r1 = await s3curl(wrongSecret, ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", `${store.endpoint}/${bucket}/backup/obj.bin`]);
    expect(status(r1)).toBe("403");
    expect(r1.stdout).toContain("<Code>SignatureDoesNotMatch</Code>");
    // versitygw answers an unknown key with 404 XAdminUserNotFound (AWS: 403 InvalidAccessKeyId).
    const wrongKey = curlConf("bad-key.conf", "FLEETNOSUCHKEY00", store.secretAccessKey);
    const r2 = await s3curl(wrongKey, ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", `${store.endpoint}/${bucket}/backup/obj.bin`]);
    expect(status(r2)).toBe("404");
    expect(r2.stdout).toContain("<Code>XAdminUserNotFound</Code>");
    // No signature at all: refused too.
    const anon = await run("curl", ["-sS", "--cacert", store.caFile, "-w", "\n%{http_code}", `${store.endpoint}/${bucket}/backup/obj.bin`]);
    expect(status(anon)).toBe("403");
  });

  it("lists keys, under a prefix too", async () => {
    const conf = curlConf("good.conf", store.accessKeyId, store.secretAccessKey);
    const file = join(dir, "small.txt");
    writeFileSync(file, "hello\n");
    for (const key of ["backup/2025-01-01/base.tar", "media/a b+c.txt", "media/photo.jpg"]) {
      const put = await s3curl(conf, ["-o", "/dev/null", "-T", file, "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", `${store.endpoint}/${bucket}/${encodeURI(key).replace(/\+/g, "%2B")}`]);
      expect(status(put), key).toBe("200");
    }
    expect(await store.listKeys(bucket)).toEqual(["backup/2025-01-01/base.tar", "backup/obj.bin", "media/a b+c.txt", "media/photo.jpg"]);
    expect(await store.listKeys(bucket, "media/")).toEqual(["media/a b+c.txt", "media/photo.jpg"]);
    expect(await store.listKeys(bucket, "media/a b")).toEqual(["media/a b+c.txt"]);
    expect(await store.listKeys(bucket, "nothing/")).toEqual([]);
    await expect(store.listKeys("no-such-bucket")).rejects.toThrow(/HTTP 404/);
  });

  it("keeps the credentials in 0600 files and off versitygw's command line", () => {
    for (const f of ["credentials", "curl.conf", "ca.key", "server.key"]) {
      expect((statSync(join(stateDir, f)).mode & 0o777).toString(8), f).toBe("600");
    }
    expect(readFileSync(join(stateDir, "credentials"), "utf8")).toContain(store.secretAccessKey);
    const pid = store.pid();
    expect(readlinkSync(`/proc/${pid}/exe`)).toMatch(/\/versitygw$/);
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    expect(argv).toContain(listen); // the right process
    expect(argv.join(" ")).not.toContain(store.secretAccessKey);
    expect(argv.join(" ")).not.toContain(store.accessKeyId);
  });

  it("up again on the same address does nothing; another address is refused while running", async () => {
    const pid = store.pid();
    const again = await s3serve(["up", "--listen", listen]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`s3serve: https://${listen} (CA: ${store.caFile})\n`);
    expect(store.pid()).toBe(pid);
    const other = await s3serve(["up", "--listen", `127.0.0.1:${await freePort()}`]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain(`already running on ${listen}`);
    // An address this machine does not have (TEST-NET-1) is refused with a clear message.
    const absent = await s3serve(["up", "--listen", "192.0.2.1:9000"]);
    expect(absent.code).not.toBe(0);
    expect(absent.stderr).toContain("192.0.2.1 is not configured on this machine");
  });

  it("down stops it and keeps the objects; up brings them back; status follows", async () => {
    const pid = store.pid();
    expect((await s3serve(["status"])).code).toBe(0);
    await store.stop();
    expect((await s3serve(["status"])).code).toBe(1);
    const gone = (() => { try { return /^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8")); } catch { return true; } })();
    expect(gone, `versitygw pid ${pid} still runs`).toBe(true);
    store = await startObjectStore({ listen, stateDir });
    expect(store.pid()).not.toBe(pid);
    expect(await store.listKeys(bucket, "backup/")).toEqual(["backup/2025-01-01/base.tar", "backup/obj.bin"]);
  }, 60_000);
});
