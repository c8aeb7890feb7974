/**
 * Bounded waits for tests: every wait names what it waits for, polls a condition (never a
 * fixed delay), and fails with that name and the last value seen when its time is up.
 */
import type { ChildProcess } from "node:child_process";

export interface WaitOptions {
  /** Give up after this long. @default 60_000 */
  readonly timeoutMs?: number;
  /** Pause between probes. @default 500 */
  readonly intervalMs?: number;
}

/** Thrown by a probe when waiting longer is pointless (the awaited process died, say): ends the wait at once. */
export class WaitAborted extends Error {}

/**
 * Calls `probe` until `ok(value)` holds; returns that value. A probe that throws counts as
 * "not yet" (its error is the last value seen), except a {@link WaitAborted}, which ends it. Throws `timed out after N s waiting for
 * <what>; last: ...` when the time is up.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, ok: (v: T) => boolean, options: WaitOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const intervalMs = options.intervalMs ?? 500;
  const until = Date.now() + timeoutMs;
  let last: unknown = "(not probed yet)";
  for (;;) {
    try {
      const v = await probe();
      if (ok(v)) return v;
      last = v;
    } catch (e) {
      if (e instanceof WaitAborted) throw new Error(`stopped waiting for ${what}: ${e.message}`);
      last = e instanceof Error ? e.message : e;
    }
    if (Date.now() >= until) {
      const shown = typeof last === "string" ? last : JSON.stringify(last);
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}; last: ${String(shown).slice(0, 500)}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** How a child process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * The end of a child process, whether it has already ended or not (an `exit` listener added
 * after the fact would wait forever), bounded by `timeoutMs`.
 */
export function exitOf(child: ChildProcess, what: string, timeoutMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    const timer = setTimeout(() => reject(new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what} to exit (pid ${child.pid})`)), timeoutMs);
    child.once("exit", (code, signal) => { clearTimeout(timer); resolve({ code, signal }); });
  });
}

/**
 * Runs `op` (handed a signal that aborts it) for at most `ms`; past that it fails saying
 * what it waited for, whether or not `op` heeds the signal.
 */
export async function within<T>(what: string, ms: number, op: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`timed out after ${ms / 1000} s waiting for ${what}`));
    }, ms);
  });
  try {
    return await Promise.race([op(abort.signal), late]);
  } finally {
    clearTimeout(timer);
  }
}
