/**
 * Samples every process's command line (/proc/<pid>/cmdline) while an operation runs, on
 * this machine or on a test host, and counts the sweeps that showed a secret and those
 * that showed a control: a string the operation's own processes carry on their command
 * line (a URL, say), which proves the sampler saw them. The strings sit in 0600 files
 * the sampler's grep reads, so its own command line holds none of them.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cmd, heredoc } from "../../lib/shell.ts";
import { exitOf, waitFor } from "./wait.ts";

/** How many sweeps saw a secret, how many a control, and how many there were. */
export interface ArgvSample {
  readonly secret: number;
  readonly control: number;
  readonly sweeps: number;
}

export interface ArgvSampler {
  /** Stops sampling, removes its files, and says what it saw. */
  stop(): Promise<ArgvSample>;
}

/** The sampling loop, run by bash, with its files in `dir` (secrets, controls, hits, sweeps). */
export function samplerLoop(dir: string): string {
  const f = (name: string) => cmd(`${dir}/${name}`);
  return [
    "n=0",
    "while :; do",
    "  a=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ')",
    "  n=$((n + 1))",
    `  if printf '%s' "$a" | grep -qFf ${f("controls")}; then echo control >> ${f("hits")}; fi`,
    `  if printf '%s' "$a" | grep -qFf ${f("secrets")}; then echo secret >> ${f("hits")}; fi`,
    `  echo "$n" > ${f("sweeps")}`,
    "  sleep 0.02",
    "done",
  ].join("\n");
}

/** Reads a sampler's `hits` and `sweeps` files' contents. */
export function parseSample(hits: string, sweeps: string): ArgvSample {
  const lines = hits.split("\n");
  return { secret: lines.filter((l) => l === "secret").length, control: lines.filter((l) => l === "control").length, sweeps: Number(sweeps.trim() || "0") };
}

function patterns(strings: readonly string[]): string {
  if (strings.length === 0 || strings.some((s) => s === "" || s.includes("\n"))) throw new Error("argv sampler: give non-empty, one-line strings");
  return `${strings.join("\n")}\n`;
}

/** Samples this machine's processes until stop(). */
export async function sampleLocalArgv(secrets: readonly string[], controls: readonly string[]): Promise<ArgvSampler> {
  const dir = mkdtempSync(join(tmpdir(), "fleet-argv-"));
  writeFileSync(join(dir, "secrets"), patterns(secrets), { mode: 0o600 });
  writeFileSync(join(dir, "controls"), patterns(controls), { mode: 0o600 });
  // Its own process group, so stop() ends the loop and whatever it is running.
  const child = spawn("bash", ["-c", samplerLoop(dir)], { stdio: "ignore", detached: true });
  const read = (name: string) => { try { return readFileSync(join(dir, name), "utf8"); } catch { return ""; } };
  // Ends the loop and removes the folder (it holds the secrets) whatever happened.
  const abandon = () => {
    try { process.kill(-child.pid!, "SIGKILL"); } catch { /* already gone */ }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("the local argv sampler's first sweep", () => read("sweeps"), (s) => s.trim() !== "", { timeoutMs: 10_000, intervalMs: 50 });
  } catch (e) {
    abandon();
    throw e;
  }
  return {
    async stop() {
      try {
        try { process.kill(-child.pid!, "SIGTERM"); } catch { /* already gone */ }
        await exitOf(child, "the local argv sampler", 10_000);
        return parseSample(read("hits"), read("sweeps"));
      } finally {
        abandon();
      }
    },
  };
}

/**
 * Samples a host's processes until stop(), as a transient systemd unit `unit` (root).
 * `ssh` runs a script on the host as root (its text travels on stdin, not in argv).
 */
export async function sampleHostArgv(ssh: (script: string) => Promise<string>, unit: string, secrets: readonly string[], controls: readonly string[]): Promise<ArgvSampler> {
  const dir = `/root/${unit}`;
  await ssh([
    `rm -rf -- ${cmd(dir)}`,
    `(umask 077; mkdir -- ${cmd(dir)}; cat > ${cmd(`${dir}/secrets`)} ${heredoc(patterns(secrets)).trimEnd()}`,
    `cat > ${cmd(`${dir}/controls`)} ${heredoc(patterns(controls)).trimEnd()}`,
    ")",
    `systemd-run --quiet --unit=${cmd(unit)} /bin/bash -c ${cmd(samplerLoop(dir))}`,
  ].join("\n"));
  await waitFor(`${unit}'s first sweep`, () => ssh(`cat -- ${cmd(`${dir}/sweeps`)} 2>/dev/null || true`), (s) => s.trim() !== "", { timeoutMs: 30_000 });
  return {
    async stop() {
      await ssh(`systemctl stop -- ${cmd(unit)}`);
      const hits = await ssh(`cat -- ${cmd(`${dir}/hits`)} 2>/dev/null || true`);
      const sweeps = await ssh(`cat -- ${cmd(`${dir}/sweeps`)}`);
      await ssh(`rm -rf -- ${cmd(dir)}`);
      return parseSample(hits, sweeps);
    },
  };
}
