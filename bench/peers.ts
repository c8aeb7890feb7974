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
 * Then, part 4 (django-fleet only: the peers model one host), on nine fresh hosts: one
 * stack with a core host (every role but app) and N = 1, 4, 8 app hosts, grown by config;
 * at each N, the no-change `up` and `up --refresh`, BENCH_RUNS times, per host.
 *
 * Run: npm run bench -- peers   (about 30 minutes; it boots the test hosts, so nothing else
 * may be using them). Settings: BENCH_PARTS (single,scale), BENCH_RUNS (3), BENCH_KEEP=1
 * (leave the last hosts and stack up), BENCH_TAKE_HOSTS=1 (boot although test hosts are
 * up: stops them).
 */
import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { writeAnsibleProject } from "./peers/ansible/index.ts";
import { ANSIBLE_CORE_VERSION, installAnsible } from "./peers/ansible/install.ts";
import { assertServing } from "./peers/assertServing.ts";
import { bashPeerSsh, bashPeerStdin, knownHostsLine } from "./peers/bash.ts";
import { devStackConfig, renderPeerStack, type PeerSecrets, type PeerStack } from "./peers/render.ts";
import { benchCommand, checkoutDescription, machine, say } from "./runInfo.ts";
import { misses, renderReport, upChanges, renderScaleTable, renderTable, type Row, type Sample, type ScaleRow, type Tool } from "./peersReport.ts";
import { engineEnv, ROOT, testStack, type TestStack } from "../test/helpers/pulumi.ts";
import { generate } from "../providers/randomSecret.ops.ts";
import { freshObjectStore, type ObjectStore } from "../test/helpers/objectStore.ts";
import { bootFleet, INVENTORY, type Fleet } from "../test/helpers/testhosts.ts";

const RESULTS = join(ROOT, "bench/results/peers.md");
const STACK_NAME = "bench-peers";
const HOST: Readonly<Record<Tool, string>> = { fleet: "peer-fleet", ansible: "peer-ansible", bash: "peer-bash" };
/** Part 4: the core host and the app hosts the fleet grows through. */
const CORE = "core";
const SCALE_STEPS = [1, 4, 8] as const;
const appHost = (i: number) => `app${i}`;

/**
 * Part 4's stack config: the dev stack's app and broker, a core host, `n` app hosts, and
 * uploads in the test object store (the config refuses local media on several app hosts;
 * it is set from the first N on, so growing changes only `hosts`).
 */
/** The dev stack's raw config for `hostName`, as the Automation API sets it, with the test inventory. */
function devConfigValues(o: { hostName: string; workers?: number }): Record<string, { value: string }> {
  return {
    "django-fleet:inventoryFile": { value: INVENTORY },
    ...Object.fromEntries(Object.entries(devStackConfig(o)).map(([k, v]) => [k, { value: v }])),
  };
}

function scaleConfig(n: number, s3: ObjectStore): Record<string, { value: string; secret?: boolean }> {
  const hosts = [
    { name: CORE, roles: ["loadBalancer", "worker", "beat", "db", "broker", "logging"] },
    ...Array.from({ length: n }, (_, i) => ({ name: appHost(i + 1), roles: ["app"] })),
  ];
  return {
    ...devConfigValues({ hostName: CORE }),
    "django-fleet:hosts": { value: JSON.stringify(hosts) },
    "django-fleet:media": {
      value: JSON.stringify({ storage: "s3", target: { endpoint: s3.endpoint, bucket: "fleet-media", pathStyle: true, caFile: s3.caFile, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } }),
      secret: true,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  /** BENCH_PARTS: "single" (parts 1-3), "scale" (part 4), or both (the default). */
  readonly parts: ReadonlySet<"single" | "scale">;
  readonly runs: number;
  readonly keep: boolean;
  readonly takeHosts: boolean;
}

function options(env: NodeJS.ProcessEnv): Options {
  const runs = Number(env.BENCH_RUNS ?? "3");
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`BENCH_RUNS: must be a whole number of at least 1, got ${env.BENCH_RUNS}`);
  const parts = (env.BENCH_PARTS ?? "single,scale").split(",").map((x) => x.trim());
  for (const x of parts) if (x !== "single" && x !== "scale") throw new Error(`BENCH_PARTS: "${x}" is not a part (single, scale)`);
  return { parts: new Set(parts as Array<"single" | "scale">), runs, keep: env.BENCH_KEEP === "1", takeHosts: env.BENCH_TAKE_HOSTS === "1" };
}

interface Proc { readonly code: number | null; readonly stdout: string; readonly stderr: string }

function runProcess(argv: readonly string[], o: { cwd?: string; env?: Record<string, string>; input?: string; log: (s: string) => void }): Promise<Proc> {
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

async function timed<T>(f: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await f();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

/** One engine, able to apply the dev stack with a given number of gunicorn workers. */
interface Runner {
  /** Applies the stack; returns what the tool reported changing. Throws when the tool fails. */
  apply(workers: number, o?: { refresh?: boolean }): Promise<string>;
}

/**
 * `pulumi up --yes --skip-preview` (with `--refresh` when asked) as a user runs it: the CLI
 * itself, in the project folder, with the engine environment of the tests (our toolchain,
 * the stack's own file backend). What it changed is read from its "Resources:" summary.
 */
async function pulumiUp(t: TestStack, stackName: string, log: (s: string) => void, refresh = false): Promise<string> {
  const argv = ["pulumi", "up", "--yes", "--skip-preview", "--non-interactive", "--stack", stackName, ...(refresh ? ["--refresh"] : [])];
  const p = await runProcess(argv, { cwd: ROOT, env: engineEnv(t.backendDir), log });
  if (p.code !== 0) throw new Error(`${argv.join(" ")} exited ${p.code}: ${(p.stdout + p.stderr).slice(-600)}`);
  return upChanges(p.stdout);
}

function fleetRunner(t: TestStack, log: (s: string) => void): Runner & { configure(workers: number): Promise<void> } {
  return {
    async configure(workers) {
      await t.stack.setAllConfig(devConfigValues({ hostName: HOST.fleet, workers }));
    },
    apply: (_workers, o = {}) => pulumiUp(t, STACK_NAME, log, o.refresh),
  };
}

function ansibleRunner(stackOf: (workers: number) => PeerStack, privateKeyPath: string, ansiblePlaybook: string, dir: string, log: (s: string) => void): Runner {
  return {
    async apply(workers) {
      const r = writeAnsibleProject(stackOf(workers), { privateKeyPath, ansiblePlaybook, dir });
      const p = await runProcess(r.argv, { cwd: r.dir, env: { ...r.env }, log });
      const recap = /^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/m.exec(p.stdout);
      if (p.code !== 0 || !recap || recap[4] !== "0" || recap[3] !== "0") throw new Error(`ansible-playbook exited ${p.code}: ${recap?.[0] ?? p.stderr.slice(-400)}`);
      return recap[2] === "0" ? "no changes" : `changed=${recap[2]}`;
    },
  };
}

function bashRunner(stackOf: (workers: number) => PeerStack, identityFile: string, knownHostsFile: string, log: (s: string) => void): Runner {
  return {
    async apply(workers) {
      const stack = stackOf(workers);
      const p = await runProcess(bashPeerSsh(stack.host, { identityFile, knownHostsFile }), { input: bashPeerStdin(stack), log });
      const last = p.stdout.trim().split("\n").filter((l) => l.startsWith("peer: ")).pop();
      if (p.code !== 0 || !last) throw new Error(`the bash peer exited ${p.code}: ${p.stderr.slice(-400)}`);
      return last.slice("peer: ".length).trim();
    },
  };
}

/** Waits until gunicorn on `host` runs `workers` worker processes (the change is live). */
async function waitForWorkers(fleet: Fleet, host: string, workers: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let seen = "";
  while (Date.now() < until) {
    seen = (await fleet.ssh(host, "pid=$(systemctl show -p MainPID --value fleetdemo-gunicorn); pgrep -c -P \"$pid\" || true")).trim();
    if (seen === String(workers)) return;
    await sleep(500);
  }
  throw new Error(`${host}: gunicorn runs ${seen} workers, not ${workers}, ${timeoutMs / 1000} s after the change`);
}

interface Ctx {
  readonly opts: Options;
  readonly log: (s: string) => void;
  readonly work: string;
  readonly ansiblePlaybook: string;
  /** What is up now, for the caller to take down. */
  up: { fleet?: Fleet; t?: TestStack; s3?: ObjectStore };
}

/** Parts 1-3: three fresh hosts, one per tool, taking turns. */
async function runSingle(ctx: Ctx): Promise<Row[]> {
  const { opts, log, work } = ctx;
  say(`booting ${Object.values(HOST).join(", ")} (Debian 13, one per tool)`);
  const f = bootFleet(Object.values(HOST));
  ctx.up.fleet = f;
  const inv = f.inventory;
  const hostOf = (tool: Tool) => {
    const h = inv.hosts.find((x) => x.name === HOST[tool]);
    if (!h) throw new Error(`no test host ${HOST[tool]}`);
    return { name: h.name, address: h.address, hostKey: h.hostKey };
  };
  const secrets: PeerSecrets = { djangoSecretKey: generate(50), dbPassword: generate(32), brokerPassword: generate(32) };
  const stackOf = (tool: Tool) => (workers: number) => renderPeerStack({ host: hostOf(tool), commit: f.commit, secrets, workers });
  const knownHosts = join(work, "known_hosts");
  writeFileSync(knownHosts, knownHostsLine(stackOf("bash")(2).host));

  const t = await testStack(ROOT, STACK_NAME);
  ctx.up.t = t;
  const fr = fleetRunner(t, log);
  const runners: Record<Tool, Runner> = {
    fleet: fr,
    ansible: ansibleRunner(stackOf("ansible"), inv.privateKeyPath!, ctx.ansiblePlaybook, join(work, "ansible"), log),
    bash: bashRunner(stackOf("bash"), inv.privateKeyPath!, knownHosts, log),
  };
  const urlOf = (tool: Tool) => `http://${hostOf(tool).address}/`;

  const rows: Row[] = [
    { id: "first", what: "1. first provision, bare host to serving page", samples: {}, target: { bash: 1.15 } },
    { id: "nochange", what: "2. no-change run (django-fleet: `up`)", samples: {}, target: { ansible: 0.1 } },
    { id: "refresh", what: "2. no-change run (django-fleet: `up --refresh`)", samples: {}, compareWith: "nochange", target: { ansible: 0.5 } },
    { id: "change", what: "3. one-line change: gunicorn workers 2 -> 3, live", samples: {}, target: { ansible: 0.5 } },
  ];
  const add = (id: string, tool: Tool, s: Sample) => {
    const row = rows.find((r) => r.id === id)!;
    (row.samples as Record<Tool, Sample[]>)[tool] = [...(row.samples[tool] ?? []), s];
  };
  const once = async (id: string, tool: Tool, workers: number, label: string, o: { refresh?: boolean } = {}) => {
    log(`\n===== ${tool}: ${label} =====\n`);
    const r = await timed(() => runners[tool].apply(workers, o));
    say(`${tool.padEnd(7)} ${label}: ${r.seconds.toFixed(1)} s (${r.value})`);
    add(id, tool, { seconds: r.seconds, changed: r.value });
    await waitForWorkers(f, HOST[tool], workers);
    const seen = await assertServing({ url: urlOf(tool), workerHost: HOST[tool] });
    log(`\n${tool}: serving, the page showed the task after ${(seen.waitedMs / 1000).toFixed(1)} s more\n`);
  };

  await fr.configure(2);
  for (const tool of ["fleet", "ansible", "bash"] as const) await once("first", tool, 2, "first provision");
  for (let i = 1; i <= opts.runs; i++) {
    await once("nochange", "fleet", 2, `no-change up (${i}/${opts.runs})`);
    await once("refresh", "fleet", 2, `no-change up --refresh (${i}/${opts.runs})`, { refresh: true });
    await once("nochange", "ansible", 2, `no-change run (${i}/${opts.runs})`);
    await once("nochange", "bash", 2, `no-change run (${i}/${opts.runs})`);
  }
  let workers = 2;
  for (let i = 1; i <= opts.runs; i++) {
    const next = workers === 2 ? 3 : 2;
    await fr.configure(next);
    for (const tool of ["fleet", "ansible", "bash"] as const) await once("change", tool, next, `workers ${workers} -> ${next} (${i}/${opts.runs})`);
    workers = next;
  }
  console.log(`\n${renderTable(rows)}\n`);
  for (const m of misses(rows)) say(`missed: ${m}`);
  return rows;
}

/** Part 4: one django-fleet stack grown from 1 to 4 to 8 app hosts; no-change runs at each size. */
async function runScale(ctx: Ctx): Promise<ScaleRow[]> {
  const { opts, log } = ctx;
  const names = [CORE, ...Array.from({ length: SCALE_STEPS[SCALE_STEPS.length - 1] }, (_, i) => appHost(i + 1))];
  say(`booting ${names.join(", ")} (Debian 13)`);
  const f = bootFleet(names);
  ctx.up.fleet = f;
  const s3 = await freshObjectStore();
  ctx.up.s3 = s3;
  await s3.createBucket("fleet-media");
  const t = await testStack(ROOT, `${STACK_NAME}-scale`);
  ctx.up.t = t;
  const core = f.inventory.hosts.find((h) => h.name === CORE)!;
  const up = async (label: string, refresh = false): Promise<Sample> => {
    log(`\n===== fleet: ${label} =====\n`);
    const r = await timed(() => pulumiUp(t, `${STACK_NAME}-scale`, log, refresh));
    say(`fleet   ${label}: ${r.seconds.toFixed(1)} s (${r.value})`);
    return { seconds: r.seconds, changed: r.value };
  };
  const rows: ScaleRow[] = [];
  for (const n of SCALE_STEPS) {
    await t.stack.setAllConfig(scaleConfig(n, s3));
    const grow = await up(`grow to ${n} app hosts`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    const nochange: Sample[] = [];
    const refresh: Sample[] = [];
    for (let i = 1; i <= opts.runs; i++) {
      nochange.push(await up(`${n} app hosts: no-change up (${i}/${opts.runs})`));
      refresh.push(await up(`${n} app hosts: no-change up --refresh (${i}/${opts.runs})`, true));
    }
    rows.push({ n, hosts: n + 1, grow, nochange, refresh });
  }
  console.log(`\n${renderScaleTable(rows)}\n`);
  return rows;
}

async function takeDown(ctx: Ctx): Promise<void> {
  await ctx.up.t?.cleanup(); // the hosts go down with everything on them: no destroy needed
  await ctx.up.s3?.stop({ wipe: true }).catch(() => undefined);
  ctx.up.fleet?.down();
  ctx.up = {};
}

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
      hosts: `${Object.values(HOST).join(", ")}: Debian 13 test hosts under systemd-nspawn, booted together from one cached root filesystem, sharing the apt and pip caches; each holds every role (load balancer, app, worker, beat, PostgreSQL, RabbitMQ, logging)`,
      versions: `django-fleet: \`pulumi up --yes --skip-preview\` (Pulumi ${pulumiVersion}, the CLI run directly, a local file backend, Node's compile cache warm); ansible-core ${ANSIBLE_CORE_VERSION} (pipelining, ControlPersist 60s, no fact gathering, forks 5); bash over one OpenSSH session`,
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
