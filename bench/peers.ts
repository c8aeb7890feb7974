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
 */
import { spawn, execFileSync } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { writeAnsibleProject } from "./peers/ansible/index.ts";
import { ANSIBLE_CORE_VERSION, installAnsible } from "./peers/ansible/install.ts";
import { assertServing } from "./peers/assertServing.ts";
import { bashFleetSessions, bashPeerSsh, bashPeerStdin, fleetChanges, knownHostsLine } from "./peers/bash.ts";
import { devStackConfig, fleetStackConfig, renderPeerFleet, renderPeerStack, type PeerFleet, type PeerPlan, type PeerSecrets, type PeerStack } from "./peers/render.ts";
import type { HostPlan } from "../config/topology.ts";
import type { Role } from "../config/schema.ts";
import { benchCommand, checkoutDescription, machine, say } from "./runInfo.ts";
import { ansibleRecap, misses, renderReport, upChanges, renderScaleTable, renderTable, type Row, type Sample, type ScaleRow, type Tool } from "./peersReport.ts";
import { engineEnv, ROOT, testStack, type TestStack } from "../test/helpers/pulumi.ts";
import { generate } from "../providers/randomSecret.ops.ts";
import { freshObjectStore, type ObjectStore } from "../test/helpers/objectStore.ts";
import { bootFleet, INVENTORY, type Fleet } from "../test/helpers/testhosts.ts";

const RESULTS = join(ROOT, "bench/results/peers.md");
const STACK_NAME = "bench-peers";
const HOST: Readonly<Record<Tool, string>> = { fleet: "peer-fleet", ansible: "peer-ansible", bash: "peer-bash" };
/** Part 4: the core host and the app hosts the fleet grows through. */
const CORE = "core";
const appHost = (i: number) => `app${i}`;

/** The dev stack's raw config for `hostName`, as the Automation API sets it, with the test inventory. */
function devConfigValues(o: { hostName: string; workers?: number }): Record<string, { value: string }> {
  return {
    "django-fleet:inventoryFile": { value: INVENTORY },
    ...Object.fromEntries(Object.entries(devStackConfig(o)).map(([k, v]) => [k, { value: v }])),
  };
}

/** Part 4's hosts: a core host with every role but app, and `n` app hosts. */
function scaleHosts(n: number): Array<{ name: string; roles: Role[] }> {
  return [
    { name: CORE, roles: ["loadBalancer", "worker", "beat", "db", "broker", "logging"] },
    ...Array.from({ length: n }, (_, i) => ({ name: appHost(i + 1), roles: ["app"] as Role[] })),
  ];
}

/** Uploads in the test object store: `media.target` as the stack config gives it. */
function mediaTarget(s3: ObjectStore): Record<string, unknown> {
  return { endpoint: s3.endpoint, bucket: "fleet-media", pathStyle: true, caFile: s3.caFile, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
}

/**
 * Part 4's stack config: the dev stack's app and broker on a core host and `n` app hosts,
 * uploads in the test object store (the config refuses local media on several app hosts;
 * it is set from the first N on, so growing changes only `hosts`). The peers render the
 * same config (render.ts fleetStackConfig).
 */
function scaleConfig(n: number, s3: ObjectStore): Record<string, { value: string; secret?: boolean }> {
  const raw = fleetStackConfig({ hosts: scaleHosts(n), media: { target: mediaTarget(s3) } });
  return {
    "django-fleet:inventoryFile": { value: INVENTORY },
    ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, { value: v, ...(k === "django-fleet:media" ? { secret: true } : {}) }])),
  };
}

/** The stack's generated secrets (its RandomSecret resources), read from its state. */
async function stackSecrets(t: TestStack): Promise<PeerSecrets> {
  const resources = ((await t.stack.exportStack()).deployment.resources ?? []) as Array<{ type: string; urn: string; outputs?: Record<string, unknown> }>;
  const value = (name: string): string => {
    const r = resources.find((x) => x.type === "pulumi-nodejs:dynamic/fleet:RandomSecret" && x.urn.endsWith(`::${name}`));
    const v = r?.outputs?.value;
    const plain = typeof v === "object" && v !== null && "plaintext" in v ? JSON.parse(String((v as { plaintext: string }).plaintext)) : v;
    if (typeof plain !== "string" || !plain) throw new Error(`no value of the stack's secret ${name} in its state`);
    return plain;
  };
  return { djangoSecretKey: value("fleetdemo-django-secret-key"), dbPassword: value("fleetdemo-db-password"), brokerPassword: value("fleetdemo-broker-password") };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  /** BENCH_PARTS: "single" (parts 1-3), "scale" (part 4), or both (the default). */
  readonly parts: ReadonlySet<"single" | "scale">;
  readonly runs: number;
  readonly keep: boolean;
  readonly takeHosts: boolean;
  /** BENCH_SCALE: part 4's numbers of app hosts, growing. @default 1,4,8 */
  readonly scale: readonly number[];
}

function options(env: NodeJS.ProcessEnv): Options {
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

/** Times one run of `tool` (which returns what it changed), with a header in the log and a line on the console. */
async function measure(tool: Tool, label: string, log: (s: string) => void, f: () => Promise<string>): Promise<Sample> {
  log(`\n===== ${tool}: ${label} =====\n`);
  const t0 = performance.now();
  const changed = await f();
  const seconds = (performance.now() - t0) / 1000;
  say(`${tool.padEnd(7)} ${label}: ${seconds.toFixed(1)} s (${changed})`);
  return { seconds, changed };
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

function ansibleRunner(stackOf: (workers: number) => PeerStack | PeerPlan, privateKeyPath: string, ansiblePlaybook: string, dir: string, log: (s: string) => void): Runner {
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

function bashRunner(stackOf: (workers: number) => PeerStack, identityFile: string, knownHostsFile: string, log: (s: string) => void): Runner {
  return {
    async apply(workers) {
      const stack = stackOf(workers);
      return bashSession(stack.host, bashPeerStdin(stack), identityFile, knownHostsFile, log);
    },
  };
}

/** The plain-script peer on a fleet: the sessions of a wave side by side, the waves in order. */
function bashFleetRunner(fleet: PeerFleet, identityFile: string, knownHostsFile: string, log: (s: string) => void): Runner {
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
    add(id, tool, await measure(tool, label, log, () => runners[tool].apply(workers, o)));
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

/** Part 4: one django-fleet stack grown from 1 to 4 to 8 app hosts; at each size, no-change runs of it and of the peers. */
async function runScale(ctx: Ctx): Promise<ScaleRow[]> {
  const { opts, log } = ctx;
  const names = [CORE, ...Array.from({ length: Math.max(...opts.scale) }, (_, i) => appHost(i + 1))];
  say(`booting ${names.join(", ")} (Debian 13)`);
  const f = bootFleet(names);
  ctx.up.fleet = f;
  const s3 = await freshObjectStore();
  ctx.up.s3 = s3;
  await s3.createBucket("fleet-media");
  const t = await testStack(ROOT, `${STACK_NAME}-scale`);
  ctx.up.t = t;
  const core = f.inventory.hosts.find((h) => h.name === CORE)!;
  const up = (label: string, refresh = false): Promise<Sample> => measure("fleet", label, log, () => pulumiUp(t, `${STACK_NAME}-scale`, log, refresh));
  const rows: ScaleRow[] = [];
  for (const n of opts.scale) {
    await t.stack.setAllConfig(scaleConfig(n, s3));
    const grow = await up(`grow to ${n} app hosts`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    const nochange: Sample[] = [];
    const refresh: Sample[] = [];
    for (let i = 1; i <= opts.runs; i++) {
      nochange.push(await up(`${n} app hosts: no-change up (${i}/${opts.runs})`));
      refresh.push(await up(`${n} app hosts: no-change up --refresh (${i}/${opts.runs})`, true));
    }
    const peers = await scalePeers(ctx, { f, t, s3, n });
    rows.push({ n, hosts: n + 1, grow, nochange, refresh, peers });
  }
  console.log(`\n${renderScaleTable(rows)}\n`);
  return rows;
}

/**
 * Part 4's peers, on the hosts django-fleet has just provisioned (the issue allows hosts
 * provisioned once, the same for every tool): each renders the same fleet from the same
 * config and the stack's own secrets, takes the hosts over once (the bash peer writes its
 * migrate and collectstatic markers; what else either changes shows where its end state
 * differs from django-fleet's), then runs BENCH_RUNS no-change runs. The page is checked
 * after each tool.
 */
async function scalePeers(ctx: Ctx, o: { f: Fleet; t: TestStack; s3: ObjectStore; n: number }): Promise<ScaleRow["peers"]> {
  const { opts, log, work } = ctx;
  const inv = o.f.inventory;
  const hosts = scaleHosts(o.n).map((h) => {
    const x = inv.hosts.find((y) => y.name === h.name)!;
    return { ...h, address: x.address, hostKey: x.hostKey };
  });
  const deployed = (await o.t.stack.outputs()).deployedCommit?.value as string;
  const fleet = renderPeerFleet({
    hosts, commit: deployed, secrets: await stackSecrets(o.t), stackName: `${STACK_NAME}-scale`,
    media: { target: mediaTarget(o.s3), caPem: readFileSync(o.s3.caFile, "utf8") },
  });
  const knownHosts = join(work, "known_hosts-scale");
  writeFileSync(knownHosts, fleet.stacks.map((st) => knownHostsLine(st.host)).join(""));
  const core = inv.hosts.find((h) => h.name === CORE)!;
  const runners: Record<"ansible" | "bash", Runner> = {
    ansible: ansibleRunner(() => fleet, inv.privateKeyPath!, ctx.ansiblePlaybook, join(work, `ansible-scale-${o.n}`), log),
    bash: bashFleetRunner(fleet, inv.privateKeyPath!, knownHosts, log),
  };
  const out: NonNullable<ScaleRow["peers"]> = {};
  for (const tool of ["ansible", "bash"] as const) {
    const run = (label: string): Promise<Sample> => measure(tool, label, log, () => runners[tool].apply(2));
    const takeover = await run(`${o.n} app hosts: taking over django-fleet's hosts`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    const nochange: Sample[] = [];
    for (let i = 1; i <= opts.runs; i++) nochange.push(await run(`${o.n} app hosts: no-change run (${i}/${opts.runs})`));
    for (const x of nochange) if (x.changed !== "no changes") say(`${tool}: a no-change run changed something: ${x.changed}`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    out[tool] = { takeover, nochange };
  }
  return out;
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
