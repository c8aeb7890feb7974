/**
 * What every benchmark report says about its run: the machine, the command that ran it
 * (with its BENCH_* settings), and the checkout measured. Shared by bench/deploys.ts and
 * bench/peers.ts.
 */
import { execFileSync } from "node:child_process";
import * as os from "node:os";
import { ROOT } from "../test/helpers/pulumi.ts";

/** A progress line on stdout. */
export const say = (s: string): void => console.log(`==> ${s}`);

/** `git args` in `cwd` (default: this checkout); trimmed stdout. */
export function git(args: string[], cwd: string = ROOT): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** Host name, cores and model, memory, kernel and Node version. */
export function machine(): string {
  const cpus = os.cpus();
  return `${os.hostname()}: ${cpus.length} x ${cpus[0]?.model.trim() ?? "?"}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}`;
}

/** `BENCH_X=… npm run bench -- <name>`, as it was run. */
export function benchCommand(name: string): string {
  const vars = Object.keys(process.env).filter((k) => k.startsWith("BENCH_")).sort().map((k) => `${k}=${process.env[k]}`);
  return [...vars, `npm run bench -- ${name}`].join(" ");
}

/** `<commit12> (<branch>[, with uncommitted changes])` of this checkout. */
export function checkoutDescription(): string {
  const dirty = git(["status", "--porcelain", "--untracked-files=no"]) ? ", with uncommitted changes" : "";
  return `${git(["rev-parse", "--short=12", "HEAD"])} (${git(["rev-parse", "--abbrev-ref", "HEAD"])}${dirty})`;
}
