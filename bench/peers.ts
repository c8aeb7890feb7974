/**
 * Benchmark (issue 13): django-fleet against the tools users would pick instead, an
 * Ansible playbook and one plain bash script over one SSH session (bench/peers/), making
 * the same dev stack (every role on one Debian 13 host) from the same rendered files.
 *
 * In one run it boots three fresh test hosts from the same cached root filesystem and the
 * same apt and pip caches, one per tool, and measures on each:
 *   1. first provision, bare host to serving page (one run each: a run needs a bare host);
 *   2. the no-change second run (django-fleet: `up` and `up --refresh`), BENCH_RUNS times;
 *   3. the one-line change gunicorn workers 2 -> 3 (then 3 -> 2, 2 -> 3: BENCH_RUNS changes),
 *      each checked live (gunicorn runs that many workers).
 * The tools take turns, so they see the same machine. Every run is followed by the e2e
 * test's check of the page (bench/peers/assertServing.ts), outside the timed span; a run
 * that fails it stops the benchmark. It prints the table and writes
 * bench/results/peers.md, which the README quotes.
 *
 * Then, part 4, on nine fresh hosts: one stack with a core host (every role but app) and
 * N = 1, 4, 8 app hosts, grown by config; at each N, the no-change `up` and `up --refresh`,
 * BENCH_RUNS times; then each peer, rendering the same fleet with the stack's secrets,
 * takes those hosts over once and runs BENCH_RUNS no-change runs (Ansible: a play per
 * wave and role, every host of a play at once; bash: one session per host, side by side).
 *
 * Run: npm run bench -- peers   (about 50 minutes; it boots the test hosts, so nothing else
 * may be using them). Settings: BENCH_PARTS (single,scale), BENCH_RUNS (3), BENCH_SCALE
 * (part 4's app hosts: 1,4,8), BENCH_KEEP=1 (leave the last hosts and stack up),
 * BENCH_TAKE_HOSTS=1 (boot although test hosts are up: stops them).
 *
 * This file runs the parts and writes the report. Parts 1-3 are in peersSingle.ts, part 4
 * in peersScale.ts; the tools' runners in peersRunners.ts, the stacks' names and config in
 * peersStacks.ts, the settings and what is up in peersContext.ts, the arithmetic and
 * tables in peersReport.ts.
 */
import { execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { ANSIBLE_CORE_VERSION, installAnsible } from "./peers/ansible/install.ts";
import { options, takeDown, type Ctx } from "./peersContext.ts";
import { renderReport, type Row, type ScaleRow } from "./peersReport.ts";
import { runScale } from "./peersScale.ts";
import { runSingle } from "./peersSingle.ts";
import { CORE, HOST, STACK_NAME } from "./peersStacks.ts";
import { benchCommand, checkoutDescription, machine, say } from "./runInfo.ts";
import { ROOT } from "../test/helpers/pulumi.ts";
import { INVENTORY } from "../test/helpers/testhosts.ts";

const RESULTS = join(ROOT, "bench/results/peers.md");

export async function main(args: readonly string[] = []): Promise<void> {
  if (args.length) throw new Error(`bench peers takes no arguments (settings are BENCH_* variables; see bench/peers.ts), got: ${args.join(" ")}`);
  const opts = options(process.env);
  if (existsSync(INVENTORY) && !opts.takeHosts) {
    throw new Error(`test hosts are up (${INVENTORY} exists) and this benchmark boots its own (scripts/testhosts down first). Stop them, or set BENCH_TAKE_HOSTS=1 if nobody is using them`);
  }
  const started = performance.now();
  const logPath = join(os.tmpdir(), `fleet-bench-peers-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
  const logFile = createWriteStream(logPath);
  const log = (s: string) => { logFile.write(s); };
  say(`tool output goes to ${logPath}`);
  const commit = checkoutDescription();
  for (const name of [STACK_NAME, `${STACK_NAME}-scale`]) rmSync(join(ROOT, `Pulumi.${name}.yaml`), { force: true });

  const ansible = installAnsible();
  const ctx: Ctx = { opts, log, work: mkdtempSync(join(os.tmpdir(), "fleet-bench-peers-")), ansiblePlaybook: ansible.ansiblePlaybook, up: {} };
  let rows: Row[] = [];
  let scale: ScaleRow[] = [];
  // Written after each part, so a failure in part 4 keeps parts 1-3.
  const writeReport = () => {
    const pulumiVersion = execFileSync("pulumi", ["version"], { encoding: "utf8", env: { ...process.env } }).trim();
    writeFileSync(RESULTS, renderReport({
      date: new Date().toISOString(),
      machine: machine(),
      command: benchCommand("peers"),
      commit,
      hosts: `${Object.values(HOST).join(", ")}: Debian 13 test hosts under systemd-nspawn, booted together from one cached root filesystem, sharing the apt and pip caches; each holds every role (load balancer, app, worker, beat, PostgreSQL, RabbitMQ, logging); part 4: ${CORE} and app1 to app${Math.max(...opts.scale)}, fresh hosts of the same kind, the core with every role but app, uploads in the test object store`,
      versions: `django-fleet: \`pulumi up --yes --skip-preview\` (Pulumi ${pulumiVersion}, the CLI run directly, a local file backend, Node's compile cache warm); ansible-core ${ANSIBLE_CORE_VERSION} (pipelining, ControlPersist 60s, no fact gathering, forks: every host of a play at once, at least 5); bash over one OpenSSH session`,
      wholeRunMinutes: (performance.now() - started) / 60_000,
      notes: [],
    }, rows, scale));
    say(`wrote ${RESULTS}`);
  };
  try {
    if (opts.parts.has("single")) {
      rows = await runSingle(ctx);
      writeReport();
      if (opts.parts.has("scale") || !opts.keep) await takeDown(ctx);
    }
    if (opts.parts.has("scale")) {
      scale = await runScale(ctx);
      writeReport();
    }
  } finally {
    if (!opts.keep) {
      await takeDown(ctx);
      rmSync(ctx.work, { recursive: true, force: true });
    } else {
      say(`BENCH_KEEP=1: hosts, stack and ${ctx.work} left up`);
    }
    logFile.end();
  }
}
