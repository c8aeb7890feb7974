/**
 * Benchmark: deploys under load, the old in-place deploy beside issue 11's releases with a
 * rolling, health-gated switch. In one run, on one set of prod-like test hosts (load
 * balancer, two app nodes, worker + broker + cache, database) and one stack:
 *
 *   old code (commit 0fc827d, checked out into a temporary worktree):
 *     up main (first build); under load: up v2, up <broken> (in place), up main (recover)
 *   new code (this checkout), from the state the old code left:
 *     under load: up main (upgrade to releases), up v2 (rolling), up <broken> (the gate
 *     should stop it at app1 and roll app1 back), up main (rollback to a kept release)
 *
 * For each deploy it reports requests sent and failed, p50/p99 latency, the up's seconds
 * and each app node's switch seconds, prints the table and writes bench/results/deploys.md.
 * The load goes only to https://<lb>/ of our own test hosts.
 *
 * Run: npm run bench -- deploys   (about an hour; it boots the test hosts, so nothing else
 * may be using them). Settings: BENCH_BROKEN (unhealthy | importError), BENCH_LOAD_WORKERS,
 * BENCH_LOAD_PAUSE_MS, BENCH_LOAD_TIMEOUT_MS, BENCH_LOAD_LEAD_S, BENCH_LOAD_TAIL_S,
 * BENCH_DRAIN_S, BENCH_HEALTH_TIMEOUT_S, BENCH_OLD_REF, BENCH_KEEP=1 (leave everything up),
 * BENCH_TAKE_HOSTS=1 (boot although test hosts are up: stops them).
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { publishVariant, V2_MARKER, VARIANT_SPECS, VARIANTS } from "../test/helpers/appCommits.ts";
import { freshObjectStore, type ObjectStore } from "../test/helpers/objectStore.ts";
import { engineEnv, ROOT } from "../test/helpers/pulumi.ts";
import { bootFleet, INVENTORY, type Fleet } from "../test/helpers/testhosts.ts";
import { APP, APP_NODES, BENCH_HOSTS, benchConfig, benchOptions, deploySequence, describeNode, nodeProbeScript, parseNodeProbe, STACK_NAME, type BenchOptions, type DeployStep } from "./deployPlan.ts";
import { renderReport, renderTable, type DeployRow } from "./deployReport.ts";
import { deployRecorder } from "./deployTimes.ts";
import { getPage, startLoad } from "./load.ts";
import { benchCommand, checkoutDescription, git, machine, say } from "./runInfo.ts";

const RESULTS = join(ROOT, "bench/results/deploys.md");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The old code in a temporary git worktree, sharing this checkout's node_modules and toolchain. */
function checkoutOld(ref: string): { dir: string; commit: string; remove(): void } {
  const parent = mkdtempSync(join(os.tmpdir(), "fleet-bench-old-"));
  const dir = join(parent, "django-fleet");
  git(["worktree", "add", "--detach", dir, ref]);
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(dir, "node_modules"));
  symlinkSync(realpathSync(join(ROOT, ".toolchain")), join(dir, ".toolchain"));
  return {
    dir,
    commit: git(["rev-parse", "HEAD"], dir),
    remove() {
      try { git(["worktree", "remove", "--force", dir]); } catch { /* removed below */ }
      rmSync(parent, { recursive: true, force: true });
      try { git(["worktree", "prune"]); } catch { /* best effort */ }
    },
  };
}

async function waitForSite(site: string, timeoutMs = 60_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await getPage(site, 5000)).status === 200) return true;
    } catch { /* not yet */ }
    await sleep(2000);
  }
  return false;
}

/** What each app node runs, and what a few pages of the site show. */
async function observe(fleet: Fleet, site: string, refOf: Record<string, string>): Promise<{ nodes: Record<string, string>; site: string }> {
  const nodes: Record<string, string> = {};
  for (const n of APP_NODES) {
    try {
      nodes[n] = describeNode(parseNodeProbe(await fleet.ssh(n, nodeProbeScript(APP))), refOf);
    } catch (e) {
      nodes[n] = `? (${String(e).split("\n")[0]!.slice(0, 80)})`;
    }
  }
  const pages = 6;
  let v2 = 0;
  const statuses = new Map<string, number>();
  const servedBy = new Set<string>();
  for (let i = 0; i < pages; i++) {
    try {
      const p = await getPage(site, 10_000);
      statuses.set(String(p.status), (statuses.get(String(p.status)) ?? 0) + 1);
      if (p.body.includes(V2_MARKER)) v2++;
      const by = /<p id="served-by">([^<]+)<\/p>/.exec(p.body)?.[1];
      if (by) servedBy.add(by);
    } catch (e) {
      const k = (e as NodeJS.ErrnoException).code ?? "error";
      statuses.set(k, (statuses.get(k) ?? 0) + 1);
    }
  }
  const st = [...statuses].map(([k, n]) => `${k} x${n}`).join(", ");
  return { nodes, site: `release v2 on ${v2}/${pages} pages; ${st}; served by ${[...servedBy].sort().join(" ") || "-"}` };
}

interface Context {
  readonly fleet: Fleet;
  readonly s3: ObjectStore;
  readonly site: string;
  readonly opts: BenchOptions;
  readonly refOf: Record<string, string>;
  readonly log: (s: string) => void;
}

async function runStep(stack: Stack, step: DeployStep, ctx: Context): Promise<DeployRow> {
  const { opts } = ctx;
  await stack.setAllConfig(benchConfig({ code: step.code, ref: step.ref, inventoryFile: INVENTORY, media: ctx.s3, settings: opts.settings }));
  const notes: string[] = [];
  if (step.load && !(await waitForSite(ctx.site))) notes.push("the site did not answer 200 before the up");
  const rec = deployRecorder(APP_NODES, step.code === "new" ? "releaseSwitch" : "gunicorn");
  const load = step.load ? startLoad({ url: ctx.site, workers: opts.workers, pauseMs: opts.pauseMs, timeoutMs: opts.timeoutMs }) : null;
  if (load) await sleep(opts.leadSeconds * 1000);
  ctx.log(`\n===== ${step.code}: up ${step.from} -> ${step.ref} (${step.what}) =====\n`);
  const t0 = performance.now();
  let result: DeployRow["result"] = "failed";
  let thrown = "";
  try {
    const res = await stack.up({ onEvent: rec.onEvent, onOutput: ctx.log });
    result = res.summary.result === "succeeded" ? "succeeded" : "failed";
  } catch (e) {
    const text = String(e);
    ctx.log(`\n${text}\n`);
    thrown = text.split("\n").map((l) => l.trim()).find((l) => /error/i.test(l)) ?? text.split("\n")[0] ?? "";
  }
  const upSeconds = (performance.now() - t0) / 1000;
  if (load) await sleep(opts.tailSeconds * 1000);
  const loadResult = load ? await load.stop() : null;
  const timings = rec.result();
  if (step.code === "new" && timings.switchTypes.length === 0) notes.push("no ReleaseSwitch resource in this program (is issue 11 merged into this checkout?)");
  if (step.code === "old" && timings.switchTypes.length === 0) notes.push("no gunicorn SystemdService seen");
  const after = await observe(ctx.fleet, ctx.site, ctx.refOf);
  return {
    step, result, upSeconds, load: loadResult, nodes: timings.nodes,
    errors: timings.errors.length ? timings.errors : thrown ? [thrown.slice(0, 300)] : [],
    nodesAfter: after.nodes, siteAfter: after.site,
    ...(notes.length ? { note: notes.join("; ") } : {}),
  };
}

function summary(r: DeployRow): string {
  const nodes = r.nodes.map((t) => `${t.node} ${t.status}${t.switchSeconds === null ? "" : ` ${t.switchSeconds.toFixed(1)} s`}`).join(", ");
  const load = r.load ? `${r.load.sent} sent, ${r.load.failed} failed, p50 ${r.load.p50Ms} ms, p99 ${r.load.p99Ms} ms` : "no load";
  return `${r.result} in ${r.upSeconds.toFixed(1)} s; ${load}; ${nodes}${r.errors[0] ? `; ${r.errors[0]}` : ""}`;
}

export async function main(args: readonly string[] = []): Promise<void> {
  if (args.length) throw new Error(`bench deploys takes no arguments (settings are BENCH_* variables; see bench/deploys.ts), got: ${args.join(" ")}`);
  const opts = benchOptions(process.env);
  if (existsSync(INVENTORY) && !opts.takeHosts) {
    throw new Error(`test hosts are up (${INVENTORY} exists) and this benchmark boots its own (scripts/testhosts down first). Stop them, or set BENCH_TAKE_HOSTS=1 if nobody is using them`);
  }
  const started = performance.now();
  const logPath = join(os.tmpdir(), `fleet-bench-deploys-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
  const logFile = createWriteStream(logPath);
  const log = (s: string) => { logFile.write(s); };
  say(`engine output goes to ${logPath}`);

  const stackFile = (dir: string) => join(dir, `Pulumi.${STACK_NAME}.yaml`);
  rmSync(stackFile(ROOT), { force: true }); // a leftover of an interrupted run (its backend is gone)
  const newCode = checkoutDescription();
  const sequence = deploySequence(opts.broken);
  const rows: DeployRow[] = [];
  let old: ReturnType<typeof checkoutOld> | undefined;
  let fleet: Fleet | undefined;
  let s3: ObjectStore | undefined;
  let backendDir: string | undefined;
  let booting = false;
  let stopped = "";
  try {
    say(`checking out the old code (${opts.oldRef})`);
    old = checkoutOld(opts.oldRef);
    say(`booting ${BENCH_HOSTS.map((h) => h.name).join(", ")}`);
    booting = true;
    fleet = bootFleet(BENCH_HOSTS.map((h) => h.name));
    const refOf: Record<string, string> = { [fleet.commit.slice(0, 12)]: "main" };
    for (const v of VARIANTS) refOf[publishVariant(fleet.gitRoot, v).slice(0, 12)] = VARIANT_SPECS[v].branch;
    s3 = await freshObjectStore();
    await s3.createBucket("fleet-media");
    const lb = fleet.inventory.hosts.find((h) => h.name === "lb");
    if (!lb) throw new Error("no lb in the test inventory");
    const site = `https://${lb.address}/`;

    backendDir = mkdtempSync(join(os.tmpdir(), "fleet-bench-state-"));
    const envVars = engineEnv(backendDir);
    process.env.PATH = envVars.PATH; // the Automation API starts the CLI found on PATH
    const ctx: Context = { fleet, s3, site, opts, refOf, log };

    let stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK_NAME, workDir: old.dir }, { envVars });
    for (const step of sequence) {
      if (step.code === "new" && stack.workspace.workDir !== ROOT) {
        // The same stack, now run by this checkout: its config file (with the secrets' salt) moves over.
        copyFileSync(stackFile(old.dir), stackFile(ROOT));
        stack = await LocalWorkspace.createOrSelectStack({ stackName: STACK_NAME, workDir: ROOT }, { envVars });
      }
      say(`${step.code}: up ${step.from} -> ${step.ref} (${step.what})${step.load ? " under load" : ""}`);
      const row = await runStep(stack, step, ctx);
      rows.push(row);
      say(`   ${summary(row)}`);
    }
  } catch (e) {
    stopped = String(e).split("\n")[0]!;
    say(`stopped: ${stopped}`);
    throw e;
  } finally {
    if (rows.length) {
      const report = renderReport({
        date: new Date().toISOString(),
        machine: machine(),
        command: benchCommand("deploys"),
        oldCode: old ? `${old.commit.slice(0, 12)} (${opts.oldRef}), in a temporary worktree` : opts.oldRef,
        newCode,
        hosts: `${BENCH_HOSTS.map((h) => `${h.name} (${h.roles.join(", ")})`).join(", ")}; Debian test hosts under systemd-nspawn`,
        load: `${opts.workers} workers, ${opts.pauseMs} ms pause between a worker's requests, ${opts.timeoutMs} ms timeout, a new TLS connection per request; from ${opts.leadSeconds} s before each up to ${opts.tailSeconds} s after it`,
        broken: `${opts.broken} (branch ${VARIANT_SPECS[opts.broken].branch}: ${VARIANT_SPECS[opts.broken].message})`,
        settings: `healthCheck.path ${opts.settings.healthPath}, timeoutSeconds ${opts.settings.healthTimeoutSeconds}; deploy.batchSize ${opts.settings.batchSize}, drainSeconds ${opts.settings.drainSeconds}`,
        totalSeconds: (performance.now() - started) / 1000,
        ...(rows.length < sequence.length ? { status: `incomplete: stopped after ${rows.length} of ${sequence.length} deploys${stopped ? ` (${stopped})` : ""}` } : {}),
      }, rows, APP_NODES);
      mkdirSync(join(ROOT, "bench/results"), { recursive: true });
      writeFileSync(RESULTS, report);
      console.log(`\n${renderTable(rows, APP_NODES)}\n`);
      say(`written to ${RESULTS}`);
    }
    if (opts.keep) {
      say(`BENCH_KEEP: left up: the test hosts, the object store, the state in ${backendDir ?? "?"}, the old code in ${old?.dir ?? "?"}, ${stackFile(ROOT)}`);
    } else {
      rmSync(stackFile(ROOT), { force: true });
      await s3?.stop({ wipe: true }).catch(() => undefined);
      try {
        if (fleet) fleet.down();
        else if (booting) {
          // The boot failed halfway: stop what it started (nobody else used the hosts; see the check above).
          for (const [script, arg] of [["gitserve", "down"], ["testhosts", "down"]] as const) {
            try { execFileSync(join(ROOT, "scripts", script), [arg], { stdio: "inherit" }); } catch { /* best effort */ }
          }
        }
      } finally {
        old?.remove();
        if (backendDir) rmSync(backendDir, { recursive: true, force: true });
      }
    }
    logFile.end();
  }
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main(process.argv.slice(2));
}
