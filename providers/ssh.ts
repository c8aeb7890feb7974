/**
 * The SSH session code every dynamic provider shares.
 *
 * It drives the system OpenSSH client rather than a JavaScript SSH library: OpenSSH's
 * ControlMaster gives us one authenticated connection per host for the whole run (every
 * resource's steps are cheap channels on it), host keys are pinned through a known_hosts
 * file we write, and no extra npm dependency is needed.
 *
 * Scripts always run as `bash -euo pipefail -s` with their body on stdin, so secrets in a
 * script (in heredocs) never appear on any command line, here or on the server.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { mkdirSync, writeFileSync, existsSync, chmodSync, lstatSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WAITING } from "../lib/stepLock.ts";

/** How to reach one host. Passed to every dynamic resource as a (secret) input. */
export interface Connection {
  /** Address or DNS name of the host. */
  readonly host: string;
  /** SSH port. @default 22 */
  readonly port?: number;
  /** Login user; it must be root or have passwordless sudo. @default "root" */
  readonly user?: string;
  /** The host's public key, `type base64` (as in known_hosts), pinned: no other key is accepted. */
  readonly hostKey: string;
  /** The private key (OpenSSH PEM text) to log in with. Secret. */
  readonly privateKey: string;
}

/** What a remote script returned. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
  /** The step ran past its time limit and was stopped (never retried). */
  readonly timedOut?: boolean;
}

/** Raised when a remote script fails; the message names the host and the step. */
export class RemoteError extends Error {
  readonly result: RunResult;
  constructor(message: string, result: RunResult) {
    super(message);
    this.name = "RemoteError";
    this.result = result;
  }
}

/** Per-connection folder holding the key, the pinned known_hosts and the control socket. */
function sessionDir(c: Connection): string {
  const id = createHash("sha256")
    .update([c.host, c.port ?? 22, c.user ?? "root", c.hostKey, c.privateKey].join("\0"))
    .digest("hex")
    .slice(0, 16);
  // Short path: the control socket's path must fit in a unix socket name (108 bytes).
  const uid = process.getuid?.() ?? 0;
  const base = join(tmpdir(), `dfssh-${uid}`);
  const dir = join(base, id);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  // The path is predictable: it must be a real folder of ours, or another local user
  // could plant a known_hosts file or a control socket and receive our scripts.
  const st = lstatSync(base);
  if (!st.isDirectory() || st.isSymbolicLink() || st.uid !== uid) {
    throw new Error(`${base} is not a folder owned by this user; remove it and run again`);
  }
  chmodSync(base, 0o700);
  if (!existsSync(join(dir, "known_hosts"))) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const key = c.privateKey.endsWith("\n") ? c.privateKey : c.privateKey + "\n";
    writeFileSync(join(dir, "id"), key, { mode: 0o600 });
    const port = c.port ?? 22;
    const name = port === 22 ? c.host : `[${c.host}]:${port}`;
    // Type and key only: nothing else of the configured value may become a known_hosts line.
    const [type = "", key64 = ""] = c.hostKey.trim().split(/\s+/);
    writeFileSync(join(dir, "known_hosts"), `${name} ${type} ${key64}\n`, { mode: 0o600 });
  }
  return dir;
}

/**
 * Ends the pooled connection to a host (a host that was rebuilt or rebooted: its old
 * connection would hang until ServerAlive gives up). Best effort; the next run dials anew.
 */
export function dropPooledConnection(c: Connection): void {
  const dir = sessionDir(c);
  spawnSync("ssh", ["-o", `ControlPath=${join(dir, "cm")}`, "-O", "exit", "--", c.host], { stdio: "ignore", timeout: 5000 });
  rmSync(join(dir, "cm"), { force: true });
}

/** The ssh arguments for a connection (exported for tests). */
export function sshArgs(c: Connection, dir: string): string[] {
  return [
    "-o", "BatchMode=yes",
    "-o", "StrictHostKeyChecking=yes",
    "-o", `UserKnownHostsFile=${join(dir, "known_hosts")}`,
    "-o", "GlobalKnownHostsFile=/dev/null",
    "-o", "IdentitiesOnly=yes",
    "-o", "IdentityAgent=none",
    "-i", join(dir, "id"),
    // DJANGO_FLEET_SSH_POOL=0 turns pooling off (bench/ measures the difference).
    ...(process.env.DJANGO_FLEET_SSH_POOL === "0" ? ["-o", "ControlMaster=no", "-o", "ControlPath=none"] : [
      "-o", "ControlMaster=auto",
      "-o", `ControlPath=${join(dir, "cm")}`,
      // Long enough to span one `pulumi up`; short enough not to linger after it.
      "-o", "ControlPersist=20",
    ]),
    "-o", "ConnectTimeout=15",
    "-o", "ServerAliveInterval=15",
    "-o", "LogLevel=ERROR",
    "-p", String(c.port ?? 22),
    "-l", c.user ?? "root",
    // The address is never read as an option (`-oProxyCommand=...`), whatever it holds.
    "--",
    c.host,
  ];
}

/**
 * Wraps a script so bash parses all of it before running any of it, with stdin from
 * /dev/null: otherwise a command that reads stdin (rabbitmqctl, apt's hooks) would
 * swallow the rest of the script, which arrives on the same stdin.
 */
export function wrapBody(body: string): string {
  return `{\n${body}${body.endsWith("\n") ? "" : "\n"}} </dev/null\n`;
}

/**
 * The Pulumi engine's gRPC address, from the arguments the engine started this process
 * with: the program's run entry point (@pulumi/pulumi/cmd/run) puts `--engine` and
 * `--monitor` into PULUMI_NODEJS_ENGINE / PULUMI_NODEJS_MONITOR; a provider plugin such as
 * the Node dynamic provider gets the address as its first argument. Undefined when this
 * process was not started by the engine (tests, benchmarks, tools).
 */
export function engineAddress(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): string | undefined {
  const fromEnv = env.PULUMI_NODEJS_ENGINE || env.PULUMI_NODEJS_MONITOR;
  if (fromEnv) return fromEnv;
  if (/dynamic-provider(\/index\.js)?$/.test(argv[1] ?? "") && /^[^\s-][^\s]*:\d+$/.test(argv[2] ?? "")) return argv[2];
  return undefined;
}

/** The ssh processes this process has running now. */
const live = new Set<ChildProcess>();
let watching = false;

/**
 * Ends this process, and the ssh sessions it has running, once the engine at `address`
 * stops accepting connections. The engine starts the program and the provider plugins in
 * process groups of their own, so a killed `pulumi` (SIGKILL, a lost terminal) would
 * otherwise leave them running steps for minutes. The engine's listening socket is gone
 * the moment its process is, whatever killed it, and a refused local connection says so
 * (the parent process is no witness: the provider's is the plugin's shell wrapper).
 * Checked every `everyMs`; the timer does not keep the process alive.
 */
export function watchEngine(address: string, everyMs = 1000): void {
  if (watching) return;
  const at = address.lastIndexOf(":");
  const host = address.slice(0, at).replace(/^\[|\]$/g, "");
  const port = Number(address.slice(at + 1));
  if (at < 0 || !Number.isInteger(port) || port <= 0) return;
  watching = true;
  const timer = setInterval(() => {
    const probe = connect({ host, port });
    probe.setTimeout(everyMs, () => probe.destroy());
    probe.on("connect", () => probe.destroy());
    probe.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code !== "ECONNREFUSED") return;
      clearInterval(timer);
      // ssh passes the end on to the server: the session's channel closes. A remote
      // step that ignores it (apt) finishes there, and the next run waits for it.
      for (const child of live) child.kill("SIGTERM");
      // Quiet when nothing ran: a normal shutdown closes the engine's port a moment early.
      if (live.size > 0) process.stderr.write(`django-fleet: the pulumi engine at ${address} is gone; ended ${live.size} ssh session(s) and this process\n`);
      process.exit(1);
    });
  }, everyMs);
  timer.unref();
}

function once(c: Connection, body: string, timeoutMs: number): Promise<RunResult> {
  const dir = sessionDir(c);
  const asRoot = (c.user ?? "root") === "root" ? "bash -euo pipefail -s" : "sudo -n bash -euo pipefail -s";
  const engine = engineAddress(process.argv, process.env);
  if (engine) watchEngine(engine);
  return new Promise((resolve, reject) => {
    const child = spawn("ssh", [...sshArgs(c, dir), asRoot], { stdio: ["pipe", "pipe", "pipe"] });
    live.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => {
      err.push(b);
      // A step waiting for one a killed run left behind says so now, not when it ends.
      for (const line of b.toString("utf8").split("\n")) if (line.startsWith(WAITING)) process.stderr.write(`${c.host}: ${line}\n`);
    });
    child.on("error", (e) => {
      live.delete(child);
      clearTimeout(timer);
      reject(new Error(`could not start ssh (is openssh-client installed?): ${e.message}`));
    });
    child.on("close", (code, signal) => {
      live.delete(child);
      clearTimeout(timer);
      resolve({
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + (signal ? `\n(ssh ended by ${signal}: timed out after ${timeoutMs} ms)` : ""),
        code: code ?? 255,
        timedOut: signal !== null,
      });
    });
    child.stdin.on("error", () => undefined); // the remote side may close early on failure
    child.stdin.end(wrapBody(body));
  });
}

export interface RunOptions {
  /** A short name for the step, used in error messages. */
  readonly step?: string;
  /** Give up after this long. @default 1_800_000 (30 minutes: package installs can be slow) */
  readonly timeoutMs?: number;
  /** Tries when ssh itself fails (exit 255): a host still booting gets a few. @default 4 */
  readonly attempts?: number;
  /** Return a failed result instead of raising. @default false */
  readonly allowFailure?: boolean;
  /**
   * Secret values the step handles: replaced by [secret] in an error message (psql, for
   * one, quotes the failing statement, password included). @default []
   */
  readonly redact?: readonly string[];
}

/** Replaces every occurrence of each secret (of 4 characters or more) with [secret]. */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[secret]");
  return out;
}

/**
 * Runs a bash script on the host. Exit status 255 is ssh's own failure (host not up yet,
 * network); those are retried a few times. A failing script raises a RemoteError with
 * the tail of its stderr (scripts that handle secrets print none).
 */
export async function run(c: Connection, body: string, opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 1_800_000;
  let result: RunResult = { stdout: "", stderr: "", code: 255 };
  for (let attempt = 0; attempt < (opts.attempts ?? 4); attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 1000 * 2 ** attempt));
    result = await once(c, body, timeoutMs);
    // Only ssh's own failures are retried: a timed-out step may still be running remotely.
    if (result.code !== 255 || result.timedOut) break;
  }
  if (result.code !== 0 && !opts.allowFailure) {
    const tail = redact(result.stderr.trim().split("\n").slice(-15).join("\n"), opts.redact);
    const what = opts.step ? `${opts.step} on ${c.host}` : `remote script on ${c.host}`;
    const why = result.code === 255 ? "ssh could not connect or was cut off" : `exit status ${result.code}`;
    throw new RemoteError(`${what} failed (${why}):\n${tail}`, result);
  }
  return result;
}
