/**
 * bench/load.ts against local Node servers on loopback: what it counts as sent and failed,
 * its percentiles, a new connection per request, timeouts, refused connections, cut-off
 * bodies, self-signed TLS, and a prompt stop().
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { errorsSample, percentile, startLoad } from "../../bench/load.ts";

const servers: Array<http.Server | https.Server> = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections?.();
    await new Promise((r) => s.close(r));
  }
});

async function listen<S extends http.Server | https.Server>(s: S): Promise<{ server: S; port: number }> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { server: s, port: (s.address() as AddressInfo).port };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("percentile", () => {
  it("is nearest-rank", () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBeNaN();
  });

  it("does not reorder its input", () => {
    const xs = [3, 1, 2];
    percentile(xs, 50);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe("errorsSample", () => {
  it("lists the most frequent failure kinds first, at most `limit`", () => {
    const m = new Map([["HTTP 502", 3], ["ECONNRESET", 9], ["timeout", 3], ["HTTP 500", 1]]);
    expect(errorsSample(m)).toEqual(["ECONNRESET x9", "HTTP 502 x3", "timeout x3", "HTTP 500 x1"]);
    expect(errorsSample(m, 2)).toEqual(["ECONNRESET x9", "HTTP 502 x3"]);
    expect(errorsSample(new Map())).toEqual([]);
  });
});

describe("startLoad", () => {
  it("counts every request, and non-2xx answers as failed", async () => {
    let n = 0;
    let connections = 0;
    const { server, port } = await listen(http.createServer((req, res) => {
      n++;
      // Every third request fails; every fifth is slow.
      const status = n % 3 === 0 ? 500 : n % 7 === 0 ? 302 : 200;
      setTimeout(() => { res.writeHead(status, { "content-type": "text/plain" }); res.end("x".repeat(1000)); }, n % 5 === 0 ? 40 : 0);
    }));
    server.on("connection", () => { connections++; });
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, workers: 3, maxRequests: 60 });
    await until(() => load.sent() === 60);
    const r = await load.stop();
    expect(r.sent).toBe(60);
    expect(n).toBe(60);
    const fails = Math.floor(60 / 3) + [7, 14, 28, 35, 49, 56].length; // 500s, and 302s (not 2xx)
    expect(r.failed).toBe(fails);
    expect(r.outcomes["500"]).toBe(20);
    expect(r.outcomes["302"]).toBe(6);
    expect(r.outcomes["200"]).toBe(60 - fails);
    expect(r.errorsSample).toEqual(["HTTP 500 x20", "HTTP 302 x6"]);
    expect(r.p50Ms).toBeGreaterThan(0);
    expect(r.p99Ms).toBeGreaterThanOrEqual(40);
    expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    expect(r.firstFailureMs).not.toBeNull();
    expect(r.lastFailureMs!).toBeGreaterThanOrEqual(r.firstFailureMs!);
    // Keep-alive off: a new connection per request.
    expect(connections).toBe(60);
  });

  it("never has more than `workers` requests in flight, and runs until stop()", async () => {
    let inFlight = 0;
    let most = 0;
    const { port } = await listen(http.createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      setTimeout(() => { inFlight--; res.end("ok"); }, 5);
    }));
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, workers: 4 });
    await until(() => load.sent() >= 40);
    const r = await load.stop();
    expect(r.sent).toBeGreaterThanOrEqual(40);
    expect(r.failed).toBe(0);
    expect(r.errorsSample).toEqual([]);
    expect(r.firstFailureMs).toBeNull();
    expect(most).toBeLessThanOrEqual(4);
    expect(most).toBeGreaterThan(1);
  });

  it("a long pause does not delay stop()", async () => {
    const { port } = await listen(http.createServer((req, res) => res.end("ok")));
    const load = startLoad({ url: `http://127.0.0.1:${port}/`, workers: 2, pauseMs: 60_000 });
    await until(() => load.sent() === 2);
    const t0 = Date.now();
    const r = await load.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.sent).toBe(2);
  });

  it("counts timeouts, refused connections and cut-off bodies as failed", async () => {
    // Never answers.
    const silent = await listen(http.createServer(() => undefined));
    let load = startLoad({ url: `http://127.0.0.1:${silent.port}/`, workers: 2, timeoutMs: 100, maxRequests: 4 });
    await until(() => load.sent() === 4);
    let r = await load.stop();
    expect(r).toMatchObject({ sent: 4, failed: 4, errorsSample: ["timeout x4"] });
    expect(r.p50Ms).toBeGreaterThanOrEqual(90);

    // Sends headers and half a body, then drops the connection.
    const cut = await listen(http.createServer((req, res) => {
      res.writeHead(200, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => res.socket?.destroy(), 5);
    }));
    load = startLoad({ url: `http://127.0.0.1:${cut.port}/`, workers: 1, maxRequests: 3 });
    await until(() => load.sent() === 3);
    r = await load.stop();
    expect(r.sent).toBe(3);
    expect(r.failed).toBe(3);
    expect(r.outcomes["200"]).toBeUndefined();

    // Nothing listens (a port that was just freed).
    const gone = await listen(http.createServer());
    await new Promise((res) => gone.server.close(res));
    load = startLoad({ url: `http://127.0.0.1:${gone.port}/`, workers: 1, maxRequests: 3 });
    await until(() => load.sent() === 3);
    r = await load.stop();
    expect(r).toMatchObject({ sent: 3, failed: 3, errorsSample: ["ECONNREFUSED x3"] });
  });

  it("accepts a self-signed certificate over https", async (ctx) => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-load-tls-"));
    try {
      try {
        execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
          "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
      } catch {
        ctx.skip();
      }
      const { port } = await listen(https.createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
        (req, res) => { res.writeHead(req.headers.host === "site.example" ? 200 : 421); res.end("ok"); }));
      const load = startLoad({ url: `https://127.0.0.1:${port}/`, workers: 2, maxRequests: 6, headers: { host: "site.example" } });
      await until(() => load.sent() === 6);
      const r = await load.stop();
      expect(r).toMatchObject({ sent: 6, failed: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("refuses what it cannot do", () => {
    expect(() => startLoad({ url: "ftp://127.0.0.1/" })).toThrow(/only http and https/);
    expect(() => startLoad({ url: "http://127.0.0.1/", workers: 0 })).toThrow(/workers must be 1..256/);
  });
});
