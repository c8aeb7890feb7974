/** What the parts of bench/peers.ts share: the settings (BENCH_*), the log, the work folder, and what is up. */
import type { ObjectStore } from "../test/helpers/objectStore.ts";
import type { TestStack } from "../test/helpers/pulumi.ts";
import type { Fleet } from "../test/helpers/testhosts.ts";

export interface Options {
  /** BENCH_PARTS: "single" (parts 1-3), "scale" (part 4), or both (the default). */
  readonly parts: ReadonlySet<"single" | "scale">;
  readonly runs: number;
  readonly keep: boolean;
  readonly takeHosts: boolean;
  /** BENCH_SCALE: part 4's numbers of app hosts, growing. @default 1,4,8 */
  readonly scale: readonly number[];
}

export function options(env: NodeJS.ProcessEnv): Options {
  const runs = Number(env.BENCH_RUNS ?? "3");
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS: must be a whole number of at least 1, got ${env.BENCH_RUNS}`);
  const parts = (env.BENCH_PARTS ?? "single,scale").split(",").map((x) => x.trim());
  for (const x of parts) if (x !== "single" && x !== "scale") throw new Error(`BENCH_PARTS: "${x}" is not a part (single, scale)`);
  const scale = (env.BENCH_SCALE ?? "1,4,8").split(",").map((x) => Number(x.trim()));
  if (scale.some((n, i) => !Number.isInteger(n) || n < 1 || n > 8 || (i > 0 && n <= scale[i - 1]!))) {
    throw new Error(`BENCH_SCALE: app host counts from 1 to 8, growing (e.g. 1,4,8), got ${env.BENCH_SCALE}`);
  }
  return { parts: new Set(parts as Array<"single" | "scale">), runs, keep: env.BENCH_KEEP === "1", takeHosts: env.BENCH_TAKE_HOSTS === "1", scale };
}

export interface Ctx {
  readonly opts: Options;
  readonly log: (s: string) => void;
  readonly work: string;
  readonly ansiblePlaybook: string;
  /** What is up now, for the caller to take down. */
  up: { fleet?: Fleet; t?: TestStack; s3?: ObjectStore };
}

export async function takeDown(ctx: Ctx): Promise<void> {
  await ctx.up.t?.cleanup(); // the hosts go down with everything on them: no destroy needed
  await ctx.up.s3?.stop({ wipe: true }).catch(() => undefined);
  ctx.up.fleet?.down();
  ctx.up = {};
}
