/**
 * The tools of bench/peers.ts as runners: `pulumi up`, ansible-playbook and the bash
 * peer's SSH sessions, each run as a process whose output goes to the log, and timed.
 */
import { spawn } from "node:child_process";
import type { HostPlan } from "../config/topology.ts";
import { writeAnsibleProject } from "./peers/ansible/index.ts";
import { bashFleetSessions, bashPeerSsh, bashPeerStdin, fleetChanges } from "./peers/bash.ts";
import type { PeerFleet, PeerPlan, PeerStack } from "./peers/types.ts";
import { ansibleRecap, upChanges, type Sample, type Tool } from "./peersReport.ts";
import { devConfigValues, HOST, STACK_NAME } from "./peersStacks.ts";
import { say } from "./runInfo.ts";
import { engineEnv, ROOT, type TestStack } from "../test/helpers/pulumi.ts";

interface Proc { readonly code: number | null; readonly stdout: string; readonly stderr: string }

export function runProcess(argv: readonly string[], o: { cwd?: string; env?: Record<string, string>; input?: string; log: (s: string) => void }): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d; o.log(d.toString()); });
    child.stderr.on("data", (d: Buffer) => { stderr += d; o.log(d.toString()); });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(o.input ?? "");
  });
}

/** Times one run of `tool` (which returns what it changed), with a header in the log and a line on the console. */
export async function measure(tool: Tool, label: string, log: (s: string) => void, f: () => Promise<string>): Promise<Sample> {
  log(`\n===== ${tool}: ${label} =====\n`);
  const t0 = performance.now();
  const changed = await f();
  const seconds = (performance.now() - t0) / 1000;
  say(`${tool.padEnd(7)} ${label}: ${seconds.toFixed(1)} s (${changed})`);
  return { seconds, changed };
}

/** One engine, able to apply the dev stack with a given number of gunicorn workers. */
export interface Runner {
  /** Applies the stack; returns what the tool reported changing. Throws when the tool fails. */
  apply(workers: number, o?: { refresh?: boolean }): Promise<string>;
}

/**
 * `pulumi up --yes --skip-preview` (with `--refresh` when asked) as a user runs it: the CLI
 * itself, in the project folder, with the engine environment of the tests (our toolchain,
 * the stack's own file backend). What it changed is read from its "Resources:" summary.
 */
export async function pulumiUp(t: TestStack, stackName: string, log: (s: string) => void, refresh = false): Promise<string> {
  const argv = ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", stackName, ...(refresh ? ["--refresh"] : [])];
  const p = await runProcess(argv, { cwd: ROOT, env: engineEnv(t.backendDir), log });
  if (p.code !== 0) throw new Error(`${argv.join(" ")} exited ${p.code}: ${(p.stdout + p.stderr).slice(-600)}`);
  return upChanges(p.stdout);
}

export function fleetRunner(t: TestStack, log: (s: string) => void): Runner & { configure(workers: number): Promise<void> } {
  return {
    async configure(workers) {
      await t.stack.setAllConfig(devConfigValues({ hostName: HOST.fleet, workers }));
    },
    apply: (_workers, o = {}) => pulumiUp(t, STACK_NAME, log, o.refresh),
  };
}

export function ansibleRunner(stackOf: (workers: number) => PeerStack | PeerPlan, privateKeyPath: string, ansiblePlaybook: string, dir: string, log: (s: string) => void): Runner {
  return {
    async apply(workers) {
      const plan = stackOf(workers);
      const r = writeAnsibleProject(plan, { privateKeyPath, ansiblePlaybook, dir });
      const p = await runProcess(r.argv, { cwd: r.dir, env: { ...r.env }, log });
      const recap = ansibleRecap(p.stdout);
      const hosts = "waves" in plan ? plan.stacks.length : 1;
      if (p.code !== 0 || !recap || recap.failed !== 0 || recap.unreachable !== 0 || recap.hosts !== hosts) {
        throw new Error(`ansible-playbook exited ${p.code}: ${recap ? JSON.stringify(recap) : p.stderr.slice(-400)}`);
      }
      return recap.changed === 0 ? "no changes" : `changed=${recap.changed}`;
    },
  };
}

/** One session of the plain-script peer; returns its summary line ("no changes", "changed: ..."). */
async function bashSession(host: HostPlan, stdin: string, identityFile: string, knownHostsFile: string, log: (s: string) => void): Promise<string> {
  const p = await runProcess(bashPeerSsh(host, { identityFile, knownHostsFile }), { input: stdin, log });
  const last = p.stdout.trim().split("\n").filter((l) => l.startsWith("peer: ")).pop();
  if (p.code !== 0 || !last) throw new Error(`the bash peer on ${host.name} exited ${p.code}: ${p.stderr.slice(-400)}`);
  return last.slice("peer: ".length).trim();
}

export function bashRunner(stackOf: (workers: number) => PeerStack, identityFile: string, knownHostsFile: string, log: (s: string) => void): Runner {
  return {
    async apply(workers) {
      const stack = stackOf(workers);
      return bashSession(stack.host, bashPeerStdin(stack), identityFile, knownHostsFile, log);
    },
  };
}

/** The plain-script peer on a fleet: the sessions of a wave side by side, the waves in order. */
export function bashFleetRunner(fleet: PeerFleet, identityFile: string, knownHostsFile: string, log: (s: string) => void): Runner {
  return {
    async apply() {
      const lasts: Array<{ host: string; last: string }> = [];
      for (const wave of bashFleetSessions(fleet)) {
        lasts.push(...await Promise.all(wave.map(async (x) => ({ host: x.host.name, last: await bashSession(x.host, x.stdin, identityFile, knownHostsFile, log) }))));
      }
      return fleetChanges(lasts);
    },
  };
}
