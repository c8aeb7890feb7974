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
 * BENCH_SHAPE=one-host measures issue 25 instead, on one host holding every role (the dev
 * stack of test/e2e/dev.test.ts; bench/oneHostPlan.ts) and its own stack:
 *
 *   old code (commit a04b26b: releases and the gated switch, but the only app node restarts
 *   gunicorn in place): up main (first build); under load: v2, an env change, a unit-file
 *   change, <broken> (gated), back to main with the first env and unit file
 *   new code (this checkout: gunicorn on a systemd socket, the side gate), from that state:
 *     under load: up main (the upgrade onto the socket, which restarts once), then the
 *     same five deploys
 *
 * and writes bench/results/deploys-one-host.md instead (the same tables; the load goes to
 * http://<host>/, the host's nginx).
 *
 * Run: npm run bench -- deploys   (about an hour; one-host: about half an hour; it boots
 * the test hosts, so nothing else may be using them). Settings: BENCH_SHAPE (five-host, the
 * default, | one-host), BENCH_BROKEN (unhealthy | importError), BENCH_LOAD_WORKERS,
 * BENCH_LOAD_PAUSE_MS, BENCH_LOAD_TIMEOUT_MS, BENCH_LOAD_LEAD_S, BENCH_LOAD_TAIL_S,
 * BENCH_DRAIN_S (five-host only), BENCH_HEALTH_TIMEOUT_S, BENCH_OLD_REF (default 0fc827d;
 * a04b26b for one-host), BENCH_KEEP=1 (leave everything up), BENCH_TAKE_HOSTS=1 (boot
 * although test hosts are up: stops them).
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
import { APP, benchOptions, describeNode, nodeProbeScript, parseNodeProbe, type BenchOptions, type DeployStep } from "./deployPlan.ts";
import { renderReport, renderTable, type DeployRow } from "./deployReport.ts";
import { DEPLOY_SHAPES, type DeployShape } from "./deployShapes.ts";
import { deployRecorder } from "./deployTimes.ts";
import { getPage, startLoad } from "./load.ts";
import { benchCommand, checkoutDescription, git, machine, say } from "./runInfo.ts";

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
async function observe(fleet: Fleet, appNodes: readonly string[], site: string, refOf: Record<string, string>): Promise<{ nodes: Record<string, string>; site: string }> {
  const nodes: Record<string, string> = {};
  for (const n of appNodes) {
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
  readonly shape: DeployShape;
  readonly fleet: Fleet;
  /** Only for a shape with shared media. */
  readonly s3: ObjectStore | undefined;
  readonly site: string;
  readonly opts: BenchOptions;
  readonly refOf: Record<string, string>;
  readonly log: (s: string) => void;
}

async function runStep(stack: Stack, step: DeployStep, ctx: Context): Promise<DeployRow> {
  const { opts, shape } = ctx;
  await stack.setAllConfig(shape.config({ step, inventoryFile: INVENTORY, ...(ctx.s3 ? { media: ctx.s3 } : {}), settings: opts.settings }));
  const notes: string[] = [];
  if (step.load && !(await waitForSite(ctx.site))) notes.push("the site did not answer 200 before the up");
  const rec = deployRecorder(shape.appNodes, shape.switchKind(step.code));
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
  notes.push(...shape.notes(step.code, timings));
  const after = await observe(ctx.fleet, shape.appNodes, ctx.site, ctx.refOf);
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
  const shape = DEPLOY_SHAPES[opts.shape];
  const results = join(ROOT, shape.resultsFile);
  if (existsSync(INVENTORY) && !opts.takeHosts) {
    throw new Error(`test hosts are up (${INVENTORY} exists) and this benchmark boots its own (scripts/testhosts down first). Stop them, or set BENCH_TAKE_HOSTS=1 if nobody is using them`);
  }
  const started = performance.now();
  const logPath = join(os.tmpdir(), `fleet-bench-deploys-${new Date().toISOString().replace(/[:.]/g, "-")}.log`);
  const logFile = createWriteStream(logPath);
  const log = (s: string) => { logFile.write(s); };
  say(`engine output goes to ${logPath}`);

  const stackFile = (dir: string) => join(dir, `Pulumi.${shape.stackName}.yaml`);
  rmSync(stackFile(ROOT), { force: true }); // a leftover of an interrupted run (its backend is gone)
  const newCode = checkoutDescription();
  const sequence = shape.sequence(opts.broken);
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
    say(`booting ${shape.hosts.map((h) => h.name).join(", ")} (BENCH_SHAPE ${shape.name})`);
    booting = true;
    fleet = bootFleet(shape.hosts.map((h) => h.name));
    const refOf: Record<string, string> = { [fleet.commit.slice(0, 12)]: "main" };
    for (const v of VARIANTS) refOf[publishVariant(fleet.gitRoot, v).slice(0, 12)] = VARIANT_SPECS[v].branch;
    if (shape.mediaStore) {
      s3 = await freshObjectStore();
      await s3.createBucket("fleet-media");
    }
    const siteHost = fleet.inventory.hosts.find((h) => h.name === shape.siteHost);
    if (!siteHost) throw new Error(`no ${shape.siteHost} in the test inventory`);
    const site = shape.siteUrl(siteHost.address);

    backendDir = mkdtempSync(join(os.tmpdir(), "fleet-bench-state-"));
    const envVars = engineEnv(backendDir);
    process.env.PATH = envVars.PATH; // the Automation API starts the CLI found on PATH
    const ctx: Context = { shape, fleet, s3, site, opts, refOf, log };

    let stack = await LocalWorkspace.createOrSelectStack({ stackName: shape.stackName, workDir: old.dir }, { envVars });
    for (const step of sequence) {
      if (step.code === "new" && stack.workspace.workDir !== ROOT) {
        // The same stack, now run by this checkout: its config file (with the secrets' salt) moves over.
        copyFileSync(stackFile(old.dir), stackFile(ROOT));
        stack = await LocalWorkspace.createOrSelectStack({ stackName: shape.stackName, workDir: ROOT }, { envVars });
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
        hosts: `${shape.hosts.map((h) => `${h.name} (${h.roles.join(", ")})`).join(", ")}; ${shape.hosts.length === 1 ? "a Debian test host" : "Debian test hosts"} under systemd-nspawn`,
        load: `${opts.workers} workers, ${opts.pauseMs} ms pause between a worker's requests, ${opts.timeoutMs} ms timeout, ${shape.connection}; from ${opts.leadSeconds} s before each up to ${opts.tailSeconds} s after it`,
        broken: `${opts.broken} (branch ${VARIANT_SPECS[opts.broken].branch}: ${VARIANT_SPECS[opts.broken].message})`,
        settings: shape.describeSettings(opts.settings),
        totalSeconds: (performance.now() - started) / 1000,
        ...(rows.length < sequence.length ? { status: `incomplete: stopped after ${rows.length} of ${sequence.length} deploys${stopped ? ` (${stopped})` : ""}` } : {}),
      }, rows, shape.appNodes, shape.text);
      mkdirSync(join(ROOT, "bench/results"), { recursive: true });
      writeFileSync(results, report);
      console.log(`\n${renderTable(rows, shape.appNodes, shape.text.code)}\n`);
      say(`written to ${results}`);
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
