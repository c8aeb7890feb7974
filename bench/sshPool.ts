/**
 * Benchmark: what one pooled SSH connection per host buys. Runs the same number of
 * small remote steps (the probes a no-change `pulumi up` makes) against a real sshd on
 * loopback, once with OpenSSH connection pooling (our default) and once without, side by
 * side in one run, and reports the ratio. Run: npm run bench
 */
import { startSshd } from "../test/helpers/sshd.ts";

const STEPS = Number(process.env.BENCH_STEPS ?? 40);
const ROUNDS = 3;

async function timeSteps(pooled: boolean, run: typeof import("../providers/ssh.ts").run, conn: import("../providers/ssh.ts").Connection): Promise<number> {
  process.env.DJANGO_FLEET_SSH_POOL = pooled ? "1" : "0";
  const started = process.hrtime.bigint();
  for (let i = 0; i < STEPS; i++) await run(conn, "systemctl --version >/dev/null 2>&1 || true\n");
  return Number(process.hrtime.bigint() - started) / 1e6;
}

const { run } = await import("../providers/ssh.ts");
const sshd = await startSshd();
try {
  await run(sshd.connection, "true\n"); // warm up: the first connection pays key exchange once
  const pooled: number[] = [];
  const unpooled: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Interleaved, so drift in machine load hits both sides alike.
    unpooled.push(await timeSteps(false, run, sshd.connection));
    pooled.push(await timeSteps(true, run, sshd.connection));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const p = median(pooled);
  const u = median(unpooled);
  console.log(`ssh steps: ${STEPS} x ${ROUNDS} rounds against sshd on loopback`);
  console.log(`  without pooling: ${u.toFixed(0)} ms (${(u / STEPS).toFixed(1)} ms/step)`);
  console.log(`  with pooling:    ${p.toFixed(0)} ms (${(p / STEPS).toFixed(1)} ms/step)`);
  console.log(`  ratio (without / with): ${(u / p).toFixed(2)}x`);
} finally {
  await sshd.stop();
}
