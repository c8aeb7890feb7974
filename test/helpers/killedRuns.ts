/**
 * Killing a `pulumi up` the hard way, at a chosen moment, from an end-to-end test: the
 * run is started through scripts/pulumi (as an operator runs it) in a process group of
 * its own, with `--event-log`, and its whole group gets SIGKILL once a given resource's
 * step has started (its pre-event is in the log) and, optionally, a condition on the host
 * holds. Every local process the run started carries a marker in its environment, so
 * what survived the kill can be listed, whatever process group or session it is in.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./pulumi.ts";

/** The environment variable that marks a killed-run test's processes. */
const MARK = "DJANGO_FLEET_KILL_TEST";

export interface RunningUp {
  readonly child: ChildProcess;
  readonly mark: string;
  readonly eventLog: string;
  /** Settles when the run's process ends: its exit code, or the signal's name. */
  readonly ended: Promise<string>;
  /** Everything the run printed so far. */
  output(): string;
}

/** Starts `scripts/pulumi up --yes --skip-preview` on `stack` with an event log, in a process group of its own. */
export function startUp(stack: string, env: Record<string, string>, mark: string, extra: string[] = []): RunningUp {
  const eventLog = join(env.PULUMI_BACKEND_URL!.replace(/^file:\/\//, ""), `events-${mark}.jsonl`);
  rmSync(eventLog, { force: true });
  const child = spawn("bash", [join(ROOT, "scripts/pulumi"), "up", "--yes", "--skip-preview", "--non-interactive",
    "--stack", stack, "--event-log", eventLog, ...extra], {
    cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"],
    // `--event-log` exists only with PULUMI_DEBUG_COMMANDS (the Automation API sets it too).
    env: { ...process.env, ...env, PULUMI_DEBUG_COMMANDS: "true", [MARK]: mark },
  });
  let out = "";
  child.stdout!.on("data", (b: Buffer) => { out += b.toString("utf8"); });
  child.stderr!.on("data", (b: Buffer) => { out += b.toString("utf8"); });
  // Registered at once, so an early end is never missed.
  const ended = new Promise<string>((resolve) => child.on("exit", (code, signal) => resolve(signal ?? String(code))));
  return { child, mark, eventLog, ended, output: () => out };
}

/** The resource names whose step has started (resourcePreEvent) in the event log so far. */
export function startedSteps(eventLog: string): string[] {
  if (!existsSync(eventLog)) return [];
  const names: string[] = [];
  for (const line of readFileSync(eventLog, "utf8").split("\n")) {
    if (!line.includes("resourcePreEvent")) continue;
    try {
      const meta = (JSON.parse(line) as { resourcePreEvent?: { metadata?: { urn?: string; type?: string } } }).resourcePreEvent?.metadata;
      // Our dynamic resources only (components have pre-events too).
      if (meta?.urn && !meta.type?.startsWith("django-fleet:")) names.push(meta.urn.slice(meta.urn.lastIndexOf("::") + 2));
    } catch { /* a line still being written */ }
  }
  return names;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the step `name` has started and `ready()` (a check on the host) holds, then
 * SIGKILLs the run's whole process group. Fails, with the run's output, if the run ends
 * first or `timeoutMs` passes.
 */
export async function killWhen(run: RunningUp, name: string, timeoutMs: number, ready: () => Promise<boolean> = async () => true): Promise<number> {
  const started = Date.now();
  let ended: string | undefined;
  void run.ended.then((e) => { ended = e; });
  let seen = false;
  while (Date.now() - started < timeoutMs) {
    if (ended !== undefined) break;
    seen ||= startedSteps(run.eventLog).includes(name);
    if (seen && await ready()) {
      process.kill(-run.child.pid!, "SIGKILL");
      return Date.now() - started;
    }
    await pause(seen ? 250 : 100);
  }
  throw new Error(`kill point "${name}"${seen ? " (started; its host condition never held)" : ""} not reached: the run ${ended !== undefined ? `ended (${ended})` : `was still going after ${timeoutMs / 1000} s`}; it printed:\n${run.output().slice(-3000)}`);
}

/** Local processes carrying the run's mark: "pid command line". */
export function survivors(mark: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      if (!env.includes(`${MARK}=${mark}`)) continue;
      found.push(`${pid} ${readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()}`);
    } catch { /* ended meanwhile */ }
  }
  return found;
}

/** Waits until no process of the run is left; fails naming them after `timeoutMs`. */
export async function expectNoSurvivors(mark: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let left = survivors(mark);
  while (left.length > 0 && Date.now() - started < timeoutMs) {
    await pause(200);
    left = survivors(mark);
  }
  if (left.length > 0) throw new Error(`${left.length} process(es) of the killed run still running after ${timeoutMs / 1000} s:\n${left.join("\n")}`);
  return Date.now() - started;
}
