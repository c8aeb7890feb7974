/**
 * A bounded HTTP load loop in plain Node (no dependencies): `workers` concurrent loops,
 * each sending one GET at a time to one URL, a new connection per request (keep-alive
 * off, so a node taken out of the load balancer or restarted shows up at once), TLS
 * certificates not checked (the test load balancer's is self-signed). Bounded: at most
 * `workers` requests in flight, an optional pause between a worker's requests, a
 * per-request timeout, and an optional cap on the total. Only ever point it at our own
 * test hosts.
 *
 *   const load = startLoad({ url: "https://198.18.0.10/", workers: 4 });
 *   ... deploy ...
 *   const r = await load.stop(); // { sent, failed, p50Ms, p99Ms, errorsSample, ... }
 */
import * as http from "node:http";
import * as https from "node:https";

export interface LoadOptions {
  /** http:// or https:// URL requested with GET. */
  readonly url: string;
  /** Concurrent workers (requests in flight at most). @default 4 */
  readonly workers?: number;
  /** Pause between one worker's requests, in ms. @default 0 */
  readonly pauseMs?: number;
  /** A request not answered completely within this many ms fails. @default 10000 */
  readonly timeoutMs?: number;
  /** Stop sending after this many requests in all. @default unbounded (until stop()) */
  readonly maxRequests?: number;
  /** Extra request headers (e.g. Host). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface LoadResult {
  /** Requests started and finished (answered, failed or timed out). */
  readonly sent: number;
  /** Requests that got a non-2xx status or no complete answer. */
  readonly failed: number;
  /** Median and 99th percentile latency over every finished request, failed ones included (ms). */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Up to 5 distinct failure kinds, most frequent first: `HTTP 502 x12`, `ECONNREFUSED x3`. */
  readonly errorsSample: string[];
  /** How many requests ended each way: `200`, `502`, `ECONNRESET`, `timeout`. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** ms from start to the first and last failure (null without failures). */
  readonly firstFailureMs: number | null;
  readonly lastFailureMs: number | null;
  /** ms from start() to stop() returning. */
  readonly durationMs: number;
}

export interface Load {
  /** Requests finished so far. */
  sent(): number;
  /** Lets every worker finish its request in flight, then returns the figures. */
  stop(): Promise<LoadResult>;
}

/** Nearest-rank percentile (p in 0..100) of `xs`; NaN for no values. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** `HTTP 502 x12`-style lines for the most frequent failure kinds. */
export function errorsSample(failures: ReadonlyMap<string, number>, limit = 5): string[] {
  return [...failures.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([k, n]) => `${k} x${n}`);
}

interface Outcome { readonly ok: boolean; readonly kind: string }

/** One GET on a fresh connection; resolves (never rejects) with how it ended. */
function requestOnce(url: URL, timeoutMs: number, headers: Readonly<Record<string, string>>): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    const options: https.RequestOptions = { method: "GET", headers: { ...headers }, agent: false };
    const req = url.protocol === "https:"
      ? https.request(url, { ...options, rejectUnauthorized: false })
      : http.request(url, options);
    const timer = setTimeout(() => { timedOut = true; req.destroy(new Error("timeout")); }, timeoutMs);
    const done = (o: Outcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(timedOut ? { ok: false, kind: "timeout" } : o);
    };
    req.on("response", (res) => {
      const status = res.statusCode ?? 0;
      res.on("data", () => undefined);
      res.on("end", () => done({ ok: status >= 200 && status < 300, kind: String(status) }));
      res.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, kind: e.code ?? e.message }));
      // The connection closed before the whole body came.
      res.on("close", () => { if (!res.complete) done({ ok: false, kind: "aborted" }); });
    });
    req.on("error", (e: NodeJS.ErrnoException) => done({ ok: false, kind: e.code ?? e.message }));
    req.end();
  });
}

/** Starts the workers at once; they run until stop() (or maxRequests). */
export function startLoad(options: LoadOptions): Load {
  const url = new URL(options.url);
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`load: ${options.url}: only http and https`);
  const workers = options.workers ?? 4;
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new Error(`load: workers must be 1..256, not ${workers}`);
  const pauseMs = options.pauseMs ?? 0;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxRequests = options.maxRequests ?? Infinity;
  const headers = options.headers ?? {};

  const started = performance.now();
  const latencies: number[] = [];
  const outcomes = new Map<string, number>();
  const failures = new Map<string, number>();
  let begun = 0;
  let failed = 0;
  let firstFailure: number | null = null;
  let lastFailure: number | null = null;
  let stopping = false;
  /** Wakes the workers that are pausing, so stop() does not wait out their pauses. */
  const wake = new Set<() => void>();

  const sleep = (ms: number) => new Promise<void>((r) => {
    if (stopping || ms <= 0) return r();
    const w = () => { clearTimeout(t); wake.delete(w); r(); };
    const t = setTimeout(w, ms);
    wake.add(w);
  });

  async function worker(): Promise<void> {
    while (!stopping && begun < maxRequests) {
      begun++;
      const t0 = performance.now();
      const o = await requestOnce(url, timeoutMs, headers);
      const t1 = performance.now();
      latencies.push(t1 - t0);
      outcomes.set(o.kind, (outcomes.get(o.kind) ?? 0) + 1);
      if (!o.ok) {
        failed++;
        const kind = /^\d+$/.test(o.kind) ? `HTTP ${o.kind}` : o.kind;
        failures.set(kind, (failures.get(kind) ?? 0) + 1);
        firstFailure ??= t1 - started;
        lastFailure = t1 - started;
      }
      await sleep(pauseMs);
    }
  }
  const running = Promise.all(Array.from({ length: workers }, () => worker()));

  return {
    sent: () => latencies.length,
    async stop() {
      stopping = true;
      for (const w of [...wake]) w();
      await running;
      return {
        sent: latencies.length,
        failed,
        p50Ms: round1(percentile(latencies, 50)),
        p99Ms: round1(percentile(latencies, 99)),
        errorsSample: errorsSample(failures),
        outcomes: Object.fromEntries(outcomes),
        firstFailureMs: firstFailure === null ? null : Math.round(firstFailure),
        lastFailureMs: lastFailure === null ? null : Math.round(lastFailure),
        durationMs: Math.round(performance.now() - started),
      };
    },
  };
}

function round1(x: number): number {
  return Number.isNaN(x) ? NaN : Math.round(x * 10) / 10;
}

/** One GET (fresh connection, certificate not checked): status and body; rejects on a connection error or timeout. */
export function getPage(url: string, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const options: https.RequestOptions = { method: "GET", agent: false, timeout: timeoutMs };
    const req = u.protocol === "https:" ? https.request(u, { ...options, rejectUnauthorized: false }) : http.request(u, options);
    req.on("timeout", () => req.destroy(new Error(`GET ${url}: no answer in ${timeoutMs} ms`)));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}
