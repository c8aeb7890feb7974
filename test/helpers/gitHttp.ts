/**
 * A private git server for tests: the bare repositories the tests publish (bootFleet's
 * gitRoot), served over git's smart HTTP only to HTTP Basic auth with one user and
 * token. It runs as its own process (gitHttpServer.ts, which runs `git http-backend`),
 * so it keeps answering while the test process waits on the engine, and is killed on
 * stop(). It records each request's auth outcome, so a test can tell that a host really
 * authenticated (and that a wrong token was turned away).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RequestRecord, ServerSettings } from "./gitHttpServer.ts";
import { exitOf, waitFor, WaitAborted } from "./wait.ts";

export type { RequestRecord };

export interface GitHttpOptions {
  /** Folder of bare repositories (`<root>/<name>.git`). */
  readonly root: string;
  readonly user: string;
  readonly token: string;
  /** Address to listen on; the port is a free one. @default "198.18.0.1" (the test bridge) */
  readonly listen?: string;
  /**
   * Held before each answer, so that git's processes live long enough for a process
   * listing sampled every few tens of milliseconds to see them (the sampler's control).
   * @default 0
   */
  readonly delayMs?: number;
}

export interface GitHttpServer {
  readonly port: number;
  /** `http://<listen>:<port>/<name>.git`. */
  url(name: string): string;
  /** Every request answered so far, in order. */
  requests(): RequestRecord[];
  /** Kills the server process and removes its log. */
  stop(): Promise<void>;
}

/** Starts the server process and waits (bounded) until it listens. */
export async function startGitHttp(o: GitHttpOptions): Promise<GitHttpServer> {
  const dir = mkdtempSync(join(tmpdir(), "fleet-git-http-"));
  const log = join(dir, "requests.jsonl");
  const listen = o.listen ?? "198.18.0.1";
  const settings: ServerSettings = { root: o.root, user: o.user, token: o.token, listen, log, delayMs: o.delayMs ?? 0 };
  // The token goes on stdin: the server's command line names only its script.
  const child = spawn(process.execPath, [join(import.meta.dirname, "gitHttpServer.ts")], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => { out += d; });
  child.stderr.setEncoding("utf8").on("data", (d: string) => { err += d; });
  child.stdin.end(JSON.stringify(settings));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exitOf(child, "the git HTTP server", 10_000).catch(() => { child.kill("SIGKILL"); });
    rmSync(dir, { recursive: true, force: true });
  };
  let port: number;
  try {
    const line = await waitFor("the git HTTP server to listen", () => {
      if (child.exitCode !== null) throw new WaitAborted(`it exited with ${child.exitCode}: ${err.trim()}`);
      return /^listening (\d+)$/m.exec(out)?.[1];
    }, (p) => p !== undefined, { timeoutMs: 20_000, intervalMs: 100 });
    port = Number(line);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    port,
    url: (name) => `http://${listen}:${port}/${name}.git`,
    requests() {
      let text = "";
      try { text = readFileSync(log, "utf8"); } catch { return []; }
      return text.split("\n").filter(Boolean).map((l) => JSON.parse(l) as RequestRecord);
    },
    stop,
  };
}
