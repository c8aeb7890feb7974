/**
 * Seeded, deterministic fuzzing of the stack config (no server, nothing real executed).
 *
 * A valid dev-like config (one host with every role, address and host key inline) gets one
 * to three random mutations: wrong types, numbers at and past their limits, empty and
 * 100 000-character strings, shell and option syntax, quotes, newlines, unicode, objects
 * where strings belong, extra keys, namespace typos.
 *
 *   A. parseConfig then buildTopology either accept the config or throw a ConfigError whose
 *      every problem starts with a key path of the input; nothing else, and fast.
 *   B. For every accepted config, every value that reaches a remote shell reaches it quoted:
 *      the scripts that carry config values (lib/pythonInstall.ts installScript/checkScript
 *      for each method, services/app/appRelease.ts manageCommand) pass `bash -n` and RUN in
 *      bash with every command shadowed by a function that records its argv (PATH points
 *      nowhere, cwd is a temporary folder): no marker file appears, no unexpected command
 *      runs, and each config value is one intact argv element where it is used. The env
 *      file (services/app/envFile.ts) parses back to the same values, by systemd's
 *      EnvironmentFile rules and by bash (`set -a; . file`), and runs nothing.
 *   B'. The same script builders fed the raw fuzz strings directly (values the schema would
 *      refuse), so the quoting itself is tested, not only the schema in front of it.
 *
 * Failures are collected and printed with the mutation that caused them.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { manageCommand } from "../../services/app/appRelease.ts";
import { appPaths } from "../../components/paths.ts";
import { appEnvironment, type EnvironmentInputs } from "../../config/environment.ts";
import { ConfigError, parseConfig } from "../../config/load.ts";
import type { PythonProject } from "../../config/pythonProject.ts";
import type { AppConfig, StackConfig } from "../../config/schema.ts";
import { addressFrom, buildTopology, type Topology } from "../../config/topology.ts";
import { checkScript, installScript, POETRY_VERSION, toolBin, TOOLS_DIR, UV_VERSION, type InstallOptions, type InstallPaths } from "../../lib/pythonInstall.ts";
import { renderEnvFile } from "../../services/app/envFile.ts";

// ---------------------------------------------------------------------------------------
// Randomness: mulberry32, fixed seeds.

type Rng = () => number;

function mulberry32(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)]!;

const SEEDS = [0x5eed0001, 0x5eed0002, 0x5eed0003, 0x5eed0004];
const MUTATIONS_PER_SEED = 600;
const DIRECT_SAMPLES = 80;

// ---------------------------------------------------------------------------------------
// The valid base config and the values mutations use.

const KEY_A = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const BASE: Obj = {
  sshPrivateKeyPath: "/nonexistent/fleet-fuzz/id_ed25519",
  hosts: [{
    name: "fleet-dev", address: "10.0.0.10", privateAddress: "10.0.0.10", port: 22, user: "root", hostKey: KEY_A,
    roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "cache", "logging"], os: "debian13",
  }],
  app: {
    name: "shop", repo: "https://git.example/shop.git", ref: "main", settingsModule: "shop.settings",
    wsgiModule: "shop.wsgi:application", celeryApp: "shop", requirementsFile: "requirements.txt",
    install: { method: "auto", groups: ["prod"], extras: ["postgres"] }, packages: ["libpq-dev"],
    static: "nginx", listSeparator: ",", port: 8000,
    env: { FUZZ_PLAIN: "plain", FUZZ_SPACED: "with space" },
    envNames: {
      secretKey: "DJANGO_SECRET_KEY", databaseUrl: "DATABASE_URL", brokerUrl: "CELERY_BROKER_URL",
      allowedHosts: "DJANGO_ALLOWED_HOSTS", staticRoot: "DJANGO_STATIC_ROOT", mediaRoot: "DJANGO_MEDIA_ROOT", cacheUrl: "CACHE_URL",
    },
    gunicorn: { workers: 3, timeoutSeconds: 30, maxRequests: 1000 },
  },
  database: { engine: "postgresql", name: "shop", user: "shop", port: 5432 },
  broker: { kind: "rabbitmq" },
  celery: { concurrency: 2, queues: ["celery"] },
  cache: { kind: "memcached" },
  loadBalancer: { serverName: "shop.example www.shop.example", tls: "none", certificatePath: "/etc/ssl/shop.pem", keyPath: "/etc/ssl/shop.key" },
  logging: { retentionDays: 14, port: 10514 },
  protectData: false,
};

/** Created only if a value escapes its quoting and runs (`: >MARK` needs no command at all). */
const MARK = `/tmp/fleet-fuzz-PWNED-${process.pid}`;

/**
 * Strings with shell and option syntax. None starts with "/" and none holds many spaces:
 * loadBalancer.serverName and the absolute paths have regexes that backtrack exponentially
 * on such input (see invalidConfigs.test.ts, "BUG: ... exponential regex"); the fuzz would
 * hang in them rather than report. Long strings are whole values, never spliced into others.
 */
const PAYLOADS: readonly string[] = [
  `$(: >${MARK})`, `\`: >${MARK}\``, `;: >${MARK}`, `|: >${MARK}`, `&& : >${MARK}`, `\n: >${MARK}\n`,
  `'; : >${MARK}; '`, `"; : >${MARK}; "`, `$(touch ${MARK})`, `\`touch ${MARK}\``, `; touch ${MARK} #`,
  `$(/usr/bin/touch ${MARK})`, `\\$(: >${MARK})`, `'"$(: >${MARK})"'`, `\${IFS}`, "$HOME", "${HOME}", "$(id)", "$1", "$@",
  "'", '"', "\\", "\\'", "`", ";", "|", "&&", "&", ">", "<", "(", ")", "{", "}", "[", "]", "*", "?", "~", "!", "#", "%", "=",
  "-x", "--", "--upload-pack=touch x", "-oProxyCommand=touch x", "-rrequirements.txt", "--help",
  "\n", "\r", "\t", " ", "  ", "\r\n", "\\\n", "..", "../", "./", ":", "@", ",",
  "é", "日本語", "🙂", "\u202e", "\u00a0", "\u0000", "\ufeff", "\ud800", "\u001b[31m",
];
const PLAIN: readonly string[] = ["", "a", "A", "0", "_", "shop", "shop2", "a_b", "a-b", "a.b", "x".repeat(63), "req/prod.txt", "*.shop.example", "10.0.0.1", "::1", "_shop", "Shop"];
const LONG: readonly string[] = ["x".repeat(100_000), "é".repeat(50_000), "-".repeat(100_000), "'".repeat(100_000), "\\".repeat(100_000), `${"x".repeat(100_000)}$(: >${MARK})`];
const NUMBERS: readonly number[] = [0, -0, -1, 1, 2, 22, 64, 65, 80, 443, 3650, 3651, 5432, 6379, 8000, 10514, 11211, 65535, 65536, 0.5, 1.5, -0.5, 1e-7, 2 ** 31, 2 ** 53 + 2, 1e21, Number.MAX_VALUE];
const OTHER: readonly Json[] = [true, false, null, [], {}, [""], [[]], { x: "y" }, { "$(touch x)": 1 }, ["app", "app"], [null]];
const EXTRA_KEYS: readonly string[] = ["adress", "gunicron", "x", "port ", "Name", "$(touch x)", "a.b", "0", "constructor", "toString", "hostkey", "envnames", "-x", ""];

function randomString(rng: Rng): string {
  const r = rng();
  if (r < 0.55) return pick(rng, PAYLOADS);
  if (r < 0.8) return pick(rng, PLAIN);
  if (r < 0.9) return pick(rng, LONG);
  return pick(rng, PLAIN) + pick(rng, PAYLOADS) + pick(rng, PLAIN);
}

function randomValue(rng: Rng): Json {
  const r = rng();
  if (r < 0.6) return randomString(rng);
  if (r < 0.85) return pick(rng, NUMBERS);
  return JSON.parse(JSON.stringify(pick(rng, OTHER))) as Json;
}

// ---------------------------------------------------------------------------------------
// Mutations

type Path = Array<string | number>;

interface Mutation {
  /** The config (top-level keys without the namespace). */
  readonly config: Obj;
  /** Extra raw entries (namespace typos, text that is not JSON). */
  readonly raw: Record<string, string>;
  /** What was done, for failure messages. */
  readonly steps: string[];
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 90 ? `${s.slice(0, 87)}...(${s.length} chars)` : s;
}

/** Dotted like config/load.ts: `hosts[0].roles[2]`, `app.env.X`. */
function dotted(path: Path): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i ? "." : ""}${k}`)).join("");
}

/** Every node below the root, as [path, value]. */
function nodes(v: Json, path: Path = []): Array<[Path, Json]> {
  const out: Array<[Path, Json]> = path.length ? [[path, v]] : [];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...nodes(x, [...path, i])));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(...nodes(x, [...path, k]));
  return out;
}

function parentOf(root: Obj, path: Path): Json {
  let v: Json = root;
  for (const k of path.slice(0, -1)) v = (v as Record<string | number, Json>)[k]!;
  return v;
}

function setAt(root: Obj, path: Path, value: Json | undefined): void {
  const parent = parentOf(root, path) as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (Array.isArray(parent) || typeof last === "number") {
    parent[last] = value;
  } else {
    // defineProperty: an own property even for names like "constructor".
    Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  }
}

/** Near-valid values for the leaves that reach scripts (the schema refuses most payloads there). */
const SCRIPT_LEAF_VALUES: readonly string[] = [
  "shop2", "a", "a_b", "x".repeat(63), "z9", "g.1", "A-b_c.d", "prod", "Dev", "r.txt", "reqs/prod.txt", "requirements/base.in",
  "x".repeat(100_000), "a..b", "-r", "a b", "é", "_", "0",
];

const ENV_NAMES = ["FUZZ_X", "FUZZ_Y", "DJANGO_DEBUG", "PATH", "IFS", "HOME", "x", "_", "A1"];

function mutate(rng: Rng): Mutation {
  const config = JSON.parse(JSON.stringify(BASE)) as Obj;
  const raw: Record<string, string> = {};
  const steps: string[] = [];
  const count = 1 + Math.floor(rng() * 3);
  for (let n = 0; n < count; n++) {
    const all = nodes(config);
    const leaves = all.filter(([, v]) => v === null || typeof v !== "object");
    const strings = all.filter(([, v]) => typeof v === "string") as Array<[Path, string]>;
    const objects = [[[], config] as [Path, Obj], ...all.filter(([, v]) => v !== null && typeof v === "object" && !Array.isArray(v)) as Array<[Path, Obj]>];
    const arrays = all.filter(([, v]) => Array.isArray(v)) as Array<[Path, Json[]]>;
    const op = rng();
    if (op < 0.3 && leaves.length) {
      const [path] = pick(rng, leaves);
      const value = randomValue(rng);
      setAt(config, path, value);
      steps.push(`set ${dotted(path)} = ${show(value)}`);
    } else if (op < 0.5 && strings.length) {
      const [path, old] = pick(rng, strings);
      const payload = rng() < 0.8 ? pick(rng, PAYLOADS) : pick(rng, PLAIN);
      const where = rng();
      const value = where < 0.4 ? payload + old : where < 0.8 ? old + payload
        : old.slice(0, Math.floor(old.length / 2)) + payload + old.slice(Math.floor(old.length / 2));
      setAt(config, path, value);
      steps.push(`set ${dotted(path)} = ${show(value)}`);
    } else if (op < 0.56) {
      const app = config.app;
      if (app !== null && typeof app === "object" && !Array.isArray(app)) {
        const install = app.install !== null && typeof app.install === "object" && !Array.isArray(app.install) ? app.install : undefined;
        const targets: Path[] = [["app", "name"], ["app", "requirementsFile"]];
        if (install && Array.isArray(install.groups)) targets.push(["app", "install", "groups", install.groups.length]);
        if (install && Array.isArray(install.extras)) targets.push(["app", "install", "extras", Math.floor(rng() * (install.extras.length + 1))]);
        const path = pick(rng, targets);
        const value = pick(rng, SCRIPT_LEAF_VALUES);
        setAt(config, path, value);
        steps.push(`set ${dotted(path)} = ${show(value)}`);
      }
    } else if (op < 0.66) {
      // An app.env variable: the values reach the env file unvalidated, so they get more turns.
      const name = pick(rng, ENV_NAMES);
      const value = rng() < 0.9 ? randomString(rng) : randomValue(rng);
      const env = (config.app as Obj | undefined)?.env;
      if (env !== null && typeof env === "object" && !Array.isArray(env)) {
        (env as Obj)[name] = value;
        steps.push(`set app.env.${name} = ${show(value)}`);
      }
    } else if (op < 0.7 && all.length) {
      const [path] = pick(rng, all);
      setAt(config, path, undefined);
      steps.push(`delete ${dotted(path)}`);
    } else if (op < 0.78 && objects.length) {
      const [path] = pick(rng, objects);
      const key = pick(rng, EXTRA_KEYS);
      const value = randomValue(rng);
      setAt(config, [...path, key], value);
      steps.push(`add ${dotted([...path, key])} = ${show(value)}`);
    } else if (op < 0.86 && arrays.length) {
      const [path, arr] = pick(rng, arrays);
      const value = arr.length && rng() < 0.5 ? JSON.parse(JSON.stringify(pick(rng, arr))) as Json : randomValue(rng);
      arr.push(value);
      steps.push(`append to ${dotted(path)}: ${show(value)}`);
    } else if (op < 0.92) {
      const node = pick(rng, all);
      const value = randomValue(rng);
      setAt(config, node[0], value);
      steps.push(`replace ${dotted(node[0])} = ${show(value)}`);
    } else {
      const kind = rng();
      const top = pick(rng, Object.keys(BASE));
      if (kind < 0.4) {
        const ns = pick(rng, ["django-flet", "django_fleet", "Django-Fleet", "djangofleet", "django-fleets", "aws", "pulumi"]);
        raw[`${ns}:${top}`] = JSON.stringify(config[top] ?? true);
        steps.push(`raw ${ns}:${top}`);
      } else if (kind < 0.7) {
        const text = pick(rng, ["{not json", "[1,", "yes", "", "null", "'x'", `$(: >${MARK})`]);
        raw[`django-fleet:${top}`] = text;
        steps.push(`raw django-fleet:${top} = ${show(text)}`);
      } else {
        raw[`django-fleet:config:${top}`] = JSON.stringify(config[top] ?? null);
        steps.push(`raw django-fleet:config:${top} (legacy form)`);
      }
    }
  }
  return { config, raw, steps };
}

/**
 * Whether the config holds input that the two exponential regexes of config/schema/primitives.ts
 * (see invalidConfigs.test.ts, "BUG: ... exponential regex") would take minutes over: a
 * path with a long run of segment characters before a character they refuse, or a
 * serverName of many words. Such mutations are counted and skipped, not judged.
 */
function knownSlow(config: Obj): boolean {
  const lb = config.loadBalancer;
  if (lb === null || typeof lb !== "object" || Array.isArray(lb)) return false;
  for (const key of ["certificatePath", "keyPath"]) {
    const v = lb[key];
    if (typeof v === "string" && /^\//.test(v) && /[A-Za-z0-9._@+-]{16,}[^A-Za-z0-9._@+\/-]/.test(v)) return true;
  }
  return typeof lb.serverName === "string" && lb.serverName.split(" ").length > 10;
}

function rawOf(m: Mutation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.config)) out[`django-fleet:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  return { ...out, ...m.raw };
}

// ---------------------------------------------------------------------------------------
// The bash harness: scripts run with every command recorded, nothing executed.

const WORK = mkdtempSync(join(tmpdir(), "fleet-fuzz-"));
const BASH = execFileSync("bash", ["-c", 'printf %s "$BASH"'], { encoding: "utf8" });
const RM = execFileSync("bash", ["-c", "command -v rm"], { encoding: "utf8" }).trim();
const NO_PATH = "/nonexistent/fleet-fuzz-no-path";
const SHADOWED = [
  "install", "rm", "python3", "python", "pip", "runuser", "env", "systemd-run", "cd", "git", "id", "getent", "useradd", "usermod",
  "cut", "chmod", "chown", "ls", "cat", "touch", "mkdir", "cp", "mv", "ln", "sh", "bash", "dash", "sudo", "su", "curl", "wget",
  "sed", "awk", "tee", "head", "tail", "xargs", "find", "tar", "ssh", "scp", "nc", "openssl", "systemctl", "apt-get", "dpkg",
  "uv", "poetry", "kill", "sleep", "reboot",
];

const RUNNER = `set -u
exec 3>/dev/null
__rec() { if (( $# )); then printf '%s\\0' "$#" "$@" >&3; fi; }
${SHADOWED.map((c) => `${c}() { __rec ${c} "$@"; }`).join("\n")}
# The uv/Poetry version probe fails, so the install branch runs too.
grep() { __rec grep "$@"; return 1; }
command_not_found_handle() { __rec "?$1" "\${@:2}"; return 0; }
__pwned() { if [[ -e ${MARK} ]]; then echo pwned >"pwn$1"; "${RM}" -f -- ${MARK}; fi; }
__one() {
  if ! "$BASH" -n "s$1" 2>"syn$1"; then echo 2 >"rc$1"; return 0; fi
  ( set -euo pipefail; . "./a$1"; . "./s$1" ) 3>"argv$1" >"out$1" 2>"err$1" </dev/null
  echo "$?" >"rc$1"
  __pwned "$1"
}
__env() {
  if ! "$BASH" -n "s$1" 2>"syn$1"; then echo 2 >"rc$1"; return 0; fi
  ( set -euo pipefail; set -a; . "./s$1"; set +a
    while IFS= read -r -d '' __k; do printf '%s\\0' "\${!__k}"; done <"k$1" >"out$1" ) 3>"argv$1" 2>"err$1" </dev/null
  echo "$?" >"rc$1"
  __pwned "$1"
}
`;

interface Job {
  /** "script": run it; "env": source it with `set -a` and print the values of `keys`. */
  readonly kind: "script" | "env";
  readonly body: string;
  /** Absolute commands the script runs, defined as recording functions. */
  readonly absolute?: readonly string[];
  readonly keys?: readonly string[];
}

interface Outcome {
  readonly syntaxError: string;
  readonly rc: number;
  readonly stderr: string;
  readonly stdout: string;
  readonly records: string[][];
  readonly pwned: boolean;
}

const SAFE_FUNCTION_NAME = /^\/[A-Za-z0-9._/-]+$/;

function parseRecords(buf: Buffer): string[][] {
  const parts = buf.toString("utf8").split("\0");
  const out: string[][] = [];
  let i = 0;
  while (i < parts.length - 1) {
    const n = Number(parts[i]);
    out.push(parts.slice(i + 1, i + 1 + n));
    i += 1 + n;
  }
  return out;
}

/** bash processes at a time. */
const CONCURRENCY = Math.max(2, Math.min(4, availableParallelism()));

/** Runs one batch in one bash. */
function runBatch(batch: readonly Job[]): Promise<Outcome[]> {
  const dir = mkdtempSync(join(WORK, "batch-"));
  const calls: string[] = [];
  batch.forEach((job, i) => {
    writeFileSync(join(dir, `s${i}`), job.body);
    writeFileSync(join(dir, `a${i}`), (job.absolute ?? []).map((c) => `${c}() { __rec ${c} "$@"; }\n`).join(""));
    if (job.kind === "env") writeFileSync(join(dir, `k${i}`), (job.keys ?? []).map((k) => `${k}\0`).join(""));
    calls.push(job.kind === "env" ? `__env ${i}` : `__one ${i}`);
  });
  writeFileSync(join(dir, "run"), `${RUNNER}${calls.join("\n")}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn(BASH, ["--noprofile", "--norc", "run"], { cwd: dir, env: { PATH: NO_PATH, HOME: dir, LC_ALL: "C" }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString("utf8"); });
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`the harness failed (exit ${code}): ${stderr}`));
      const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : Buffer.alloc(0));
      const out = batch.map((_, i): Outcome => ({
        syntaxError: read(`syn${i}`).toString("utf8"),
        rc: Number(read(`rc${i}`).toString("utf8").trim() || "-1"),
        stderr: read(`err${i}`).toString("utf8"),
        stdout: read(`out${i}`).toString("utf8"),
        records: parseRecords(read(`argv${i}`)),
        pwned: existsSync(join(dir, `pwn${i}`)),
      }));
      rmSync(dir, { recursive: true, force: true });
      resolve(out);
    });
  });
}

/** Runs jobs in batches of 50, one bash per batch, a few batches at a time. */
async function runJobs(jobs: readonly Job[]): Promise<Outcome[]> {
  const batches: Job[][] = [];
  for (let b = 0; b < jobs.length; b += 50) batches.push(jobs.slice(b, b + 50));
  const results: Outcome[][] = new Array<Outcome[]>(batches.length);
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const i = next++;
      results[i] = await runBatch(batches[i]!);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return results.flat();
}

// ---------------------------------------------------------------------------------------
// What each script must do with the values it carries.

/** Values after each occurrence of `flag`, scanning flag/value pairs after index `from`. */
function flagValues(argv: readonly string[], flag: string, from: number, flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = from; i < argv.length; i++) {
    if (flags.includes(argv[i]!)) {
      if (argv[i] === flag) out.push(argv[i + 1]!);
      i++;
    }
  }
  return out;
}

const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

const KNOWN_COMMANDS = new Set(["install", "rm", "python3", "grep", "runuser", "cd", "systemd-run"]);

function commonProblems(o: Outcome, absolute: readonly string[]): string[] {
  const p: string[] = [];
  if (o.syntaxError) p.push(`bash -n: ${o.syntaxError.trim()}`);
  if (o.rc !== 0) p.push(`exit ${o.rc}: ${o.stderr.trim().slice(0, 300)}`);
  if (o.pwned) p.push(`the marker file ${MARK} was created`);
  for (const r of o.records) {
    if (!KNOWN_COMMANDS.has(r[0]!) && !absolute.includes(r[0]!)) p.push(`unexpected command: ${show(r)}`);
  }
  return p;
}

function installProblems(project: PythonProject, paths: InstallPaths, opts: InstallOptions, o: Outcome): string[] {
  const p: string[] = [];
  if (!o.records.some((r) => r[0] === "cd" && same(r.slice(1), [paths.source]))) p.push(`no \`cd\` with ${show(paths.source)} as its one argument`);
  const tool = project.method === "pip" ? `${paths.venv}/bin/pip` : toolBin(project.method);
  const step = o.records.filter((r) => r[0] === "runuser" && r.includes(tool)).at(-1);
  if (!step) return [...p, `no runuser running ${show(tool)}`];
  if (!same(step.slice(1, 4), ["-u", paths.user, "--"])) p.push(`runuser does not start with -u ${show(paths.user)} --: ${show(step)}`);
  if (!step.includes(`HOME=${paths.home}`)) p.push(`HOME=${show(paths.home)} is not one argument`);
  const from = step.indexOf(tool) + 1;
  if (project.method === "uv") {
    if (!step.includes(`UV_PROJECT_ENVIRONMENT=${paths.venv}`)) p.push("UV_PROJECT_ENVIRONMENT is not one argument");
    const flags = ["--group", "--extra"];
    if (!same(flagValues(step, "--group", from, flags), opts.groups)) p.push(`groups ${show(opts.groups)} are not intact: ${show(step.slice(from))}`);
    if (!same(flagValues(step, "--extra", from, flags), opts.extras)) p.push(`extras ${show(opts.extras)} are not intact: ${show(step.slice(from))}`);
  } else if (project.method === "poetry") {
    if (!step.includes(`VIRTUAL_ENV=${paths.venv}`)) p.push("VIRTUAL_ENV is not one argument");
    const flags = ["--only", "--extras"];
    if (!same(flagValues(step, "--only", from, flags), [["main", ...opts.groups].join(",")])) p.push(`--only is not main plus ${show(opts.groups)}: ${show(step.slice(from))}`);
    if (!same(flagValues(step, "--extras", from, flags), opts.extras.length ? [opts.extras.join(" ")] : [])) p.push(`--extras is not ${show(opts.extras)}: ${show(step.slice(from))}`);
  } else {
    if (!same(flagValues(step, "-r", from, ["-r"]), [project.requirementsFile!])) p.push(`-r ${show(project.requirementsFile)} is not intact: ${show(step.slice(from))}`);
    if (step.includes("--require-hashes") !== project.requireHashes) p.push("--require-hashes does not follow the project");
  }
  if (project.method !== "uv" && !o.records.some((r) => r[0] === "runuser" && same(r.slice(-4), ["-m", "venv", "--", paths.venv]))) {
    p.push(`the virtualenv ${show(paths.venv)} is not made as one argument`);
  }
  return p;
}

function checkProblems(project: PythonProject, paths: InstallPaths, o: Outcome): string[] {
  const python = `${paths.venv}/bin/python`;
  if (project.method === "uv") {
    const p: string[] = [];
    if (!o.records.some((r) => r[0] === "cd" && same(r.slice(1), [paths.source]))) p.push(`no \`cd\` with ${show(paths.source)} as its one argument`);
    const step = o.records.find((r) => r[0] === "runuser" && r.includes(toolBin("uv")));
    if (!step || !same(step.slice(1, 4), ["-u", paths.user, "--"]) || !same(flagValues(step, "--python", step.indexOf(toolBin("uv")) + 1, ["--python"]), [python])) {
      p.push(`uv pip check does not get -u ${show(paths.user)} and --python ${show(python)} intact: ${show(step)}`);
    }
    return p;
  }
  // As the app user (runuser -u USER -- env -i ... PYTHON -m pip check), from the checkout.
  const p: string[] = [];
  if (!o.records.some((r) => r[0] === "cd" && same(r.slice(1), [paths.source]))) p.push(`no \`cd\` with ${show(paths.source)} as its one argument`);
  const step = o.records.find((r) => r[0] === "runuser" && same(r.slice(-4), [python, "-m", "pip", "check"]));
  if (!step || !same(step.slice(1, 6), ["-u", paths.user, "--", "env", "-i"])) p.push(`${show(python)} -m pip check did not run as ${show(paths.user)} as such: ${show(o.records)}`);
  return p;
}

function manageProblems(name: string, args: readonly string[], o: Outcome): string[] {
  const p = appPaths(name);
  const r = o.records.find((x) => x[0] === "systemd-run");
  if (!r) return ["systemd-run did not run"];
  const props = flagValues(r, "-p", 1, ["-p"]);
  const want = [`User=${name}`, `Group=${name}`, `EnvironmentFile=${p.envFile}`, `WorkingDirectory=${p.source}`];
  const problems: string[] = [];
  if (!same(props, want)) problems.push(`systemd-run properties ${show(props)} are not ${show(want)}`);
  if (!same(r.slice(-(args.length + 2)), [`${p.venv}/bin/python`, "manage.py", ...args])) problems.push(`the command is not ${show([`${p.venv}/bin/python`, "manage.py", ...args])}: ${show(r)}`);
  return problems;
}

/** Absolute commands a script may run (only names bash accepts as function names). */
function absoluteCommands(venv: string): string[] {
  return [
    toolBin("uv"), toolBin("poetry"), `${TOOLS_DIR}/uv-${UV_VERSION}/bin/pip`, `${TOOLS_DIR}/poetry-${POETRY_VERSION}/bin/pip`,
    `${venv}/bin/python`, `${venv}/bin/pip`,
  ].filter((c) => SAFE_FUNCTION_NAME.test(c));
}

// ---------------------------------------------------------------------------------------
// The env file, read back by systemd's rules (src/basic/env-file.c, parse_env_file_internal).

function parseSystemdEnvFile(text: string): Map<string, string> {
  const out = new Map<string, string>();
  type State = "preKey" | "key" | "preValue" | "value" | "valueEscape" | "single" | "double" | "doubleEscape" | "comment";
  let state: State = "preKey";
  let key = "";
  let value = "";
  let trailing = -1;
  const push = () => {
    out.set(key.trim(), state === "value" && trailing >= 0 ? value.slice(0, trailing) : value);
    key = "";
    value = "";
  };
  for (const c of text) {
    switch (state) {
      case "preKey":
        if (c === "#" || c === ";") state = "comment";
        else if (!/[ \t\n\r]/.test(c)) { state = "key"; key = c; }
        break;
      case "key":
        if (c === "\n" || c === "\r") { state = "preKey"; key = ""; }
        else if (c === "=") { state = "preValue"; trailing = -1; }
        else key += c;
        break;
      case "preValue":
        if (c === "\n" || c === "\r") { push(); state = "preKey"; }
        else if (c === "'") state = "single";
        else if (c === '"') state = "double";
        else if (c === "\\") state = "valueEscape";
        else if (!/[ \t]/.test(c)) { state = "value"; value += c; }
        break;
      case "value":
        if (c === "\n" || c === "\r") { push(); state = "preKey"; }
        else if (c === "\\") { state = "valueEscape"; trailing = -1; }
        else {
          if (!/[ \t]/.test(c)) trailing = -1;
          else if (trailing < 0) trailing = value.length;
          value += c;
        }
        break;
      case "valueEscape":
        state = "value";
        if (c !== "\n" && c !== "\r") value += c;
        break;
      case "single":
        if (c === "'") state = "preValue";
        else value += c;
        break;
      case "double":
        if (c === '"') state = "preValue";
        else if (c === "\\") state = "doubleEscape";
        else value += c;
        break;
      case "doubleEscape":
        state = "double";
        if ('"\\`$'.includes(c)) value += c;
        else if (c !== "\n") value += `\\${c}`;
        break;
      case "comment":
        if (c === "\n" || c === "\r") state = "preKey";
        break;
    }
  }
  if (state !== "preKey" && state !== "key" && state !== "comment") push();
  return out;
}

/** Variables bash treats specially: sourcing a file that sets them tests bash, not the file. */
const BASH_SPECIAL = /^(BASH.*|SHELLOPTS|EUID|UID|PPID|IFS|PATH|HOME|ENV|CDPATH|GLOBIGNORE|PS[0-4]|SHELL|OPTIND|OPTARG|OPTERR|HISTFILE|HISTCONTROL|FUNCNAME|GROUPS|RANDOM|SRANDOM|SECONDS|LINENO|EPOCH.*|COMP.*|DIRSTACK|PIPESTATUS|HOSTNAME|HOSTTYPE|MACHTYPE|OSTYPE|POSIXLY_CORRECT|LANG|LC_.*|TMOUT|MAIL.*|_)$/;

// ---------------------------------------------------------------------------------------
// The run: generate, judge, build, execute. Everything is collected for the tests below.

interface Accepted {
  readonly steps: string[];
  readonly cfg: StackConfig;
  readonly topo: Topology;
}

const state = {
  mutations: 0,
  skipped: 0,
  refused: 0,
  accepted: [] as Accepted[],
  propertyA: [] as string[],
  slowest: { ms: 0, steps: [] as string[] },
  scriptProblems: [] as string[],
  envProblems: [] as string[],
  directProblems: [] as string[],
  scriptsRun: 0,
  envFilesRun: 0,
  directRun: 0,
  firstSeedSteps: [] as string[],
  judgeSeconds: 0,
  seconds: 0,
};

/** A path with its array indices dropped: `hosts[3].roles[1]` -> `hosts[].roles[]`. */
const shape = (path: string) => path.replace(/\[\d+\]/g, "[]");

/**
 * Every key path of the input, dotted as config/load.ts does, plus those of the base
 * config (a missing key is named too), as shapes: `hosts[1].name` of an appended host is
 * `hosts[].name` of the base's host.
 */
function keyPaths(config: Obj, raw: Record<string, string>): Set<string> {
  const paths = new Set<string>(["(stack)"]);
  for (const src of [config, BASE]) for (const [p] of nodes(src)) paths.add(shape(dotted(p)));
  for (const k of Object.keys(raw)) {
    paths.add(k);
    const [, ...rest] = k.split(":");
    paths.add(rest.filter((x) => x !== "config").join(":"));
  }
  return paths;
}

/** Whether the problem starts with `KEY: ` for a key path of the input. */
function startsWithKeyPath(problem: string, paths: ReadonlySet<string>): boolean {
  for (let i = problem.indexOf(": "); i >= 0; i = problem.indexOf(": ", i + 1)) {
    if (paths.has(shape(problem.slice(0, i)))) return true;
  }
  return false;
}

function judge(m: Mutation): void {
  state.mutations++;
  const started = performance.now();
  let cfg: StackConfig | undefined;
  let topo: Topology | undefined;
  try {
    cfg = parseConfig(rawOf(m));
    topo = buildTopology(cfg);
  } catch (e) {
    const where = `mutation [${m.steps.join("; ")}]`;
    if (!(e instanceof ConfigError)) {
      state.propertyA.push(`${where}: threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}, not a ConfigError`);
    } else {
      state.refused++;
      if (e.problems.length === 0) state.propertyA.push(`${where}: a ConfigError without problems`);
      const paths = keyPaths(m.config, m.raw);
      for (const p of e.problems) {
        if (!startsWithKeyPath(p, paths)) state.propertyA.push(`${where}: problem does not start with a key path of the input: ${show(p)}`);
      }
    }
  }
  const ms = performance.now() - started;
  if (ms > state.slowest.ms) state.slowest = { ms, steps: m.steps };
  if (cfg && topo) state.accepted.push({ steps: m.steps, cfg, topo });
}

const PROJECTS = (requirementsFile: string, requireHashes: boolean): PythonProject[] => [
  { method: "uv", reason: "fuzz", requireHashes: false },
  { method: "poetry", reason: "fuzz", requireHashes: false },
  { method: "pip", reason: "fuzz", requirementsFile, requireHashes },
];

interface Check { readonly job: Job; readonly problems: (o: Outcome) => string[]; readonly label: string }

/** The scripts that carry the config's values, with what each must do with them. */
function scriptChecks(app: AppConfig, paths: InstallPaths, opts: InstallOptions, requirementsFile: string, requireHashes: boolean): Check[] {
  const absolute = absoluteCommands(paths.venv);
  const checks: Check[] = [];
  for (const project of PROJECTS(requirementsFile, requireHashes)) {
    const install = installScript(project, paths, opts);
    checks.push({
      label: `installScript(${project.method})`, job: { kind: "script", body: install, absolute },
      problems: (o) => [...commonProblems(o, absolute), ...installProblems(project, paths, opts, o)],
    });
    const check = checkScript(project, paths);
    // A virtualenv path bash cannot name a function after would really be executed: only
    // config-derived paths (always plain) and plain fuzz paths run.
    if (project.method === "uv" || SAFE_FUNCTION_NAME.test(`${paths.venv}/bin/python`)) {
      checks.push({
        label: `checkScript(${project.method})`, job: { kind: "script", body: check, absolute },
        problems: (o) => [...commonProblems(o, absolute), ...checkProblems(project, paths, o)],
      });
    }
  }
  for (const args of [["migrate", "--noinput"], ["migrate", "--check"]]) {
    const body = `${manageCommand(app, args.join(" "))}\n`;
    checks.push({
      label: `manageCommand(${args.join(" ")})`, job: { kind: "script", body, absolute },
      problems: (o) => [...commonProblems(o, absolute), ...manageProblems(app.name, args, o)],
    });
  }
  return checks;
}

function inputsFor(cfg: StackConfig, topo: Topology): EnvironmentInputs {
  const first = topo.apps[0]!;
  return {
    secretKey: `k$(: >${MARK})\`: >${MARK}\`"z"\\'`, dbPassword: "p@ss word$", brokerPassword: "b/r:o%k", cachePassword: "c'a\"c$he",
    dbHost: addressFrom(first, topo.db), brokerHost: addressFrom(first, topo.broker),
    cacheHost: topo.cache && addressFrom(first, topo.cache),
    dbName: cfg.database.name ?? cfg.app!.name, dbUser: cfg.database.user ?? cfg.app!.name,
    ownAddresses: [first.address, first.privateAddress],
  };
}

type Located = Check & { readonly where: string };

/** Runs checks, deduplicated by job, in one pool; appends `label: problem (where)` lines to each group's sink. */
async function runChecks(groups: ReadonlyArray<{ readonly checks: readonly Located[]; readonly sink: string[] }>): Promise<number[]> {
  const idOf = (j: Job) => `${j.kind}\0${j.body}\0${(j.keys ?? []).join("\0")}\0${(j.absolute ?? []).join("\0")}`;
  const unique = new Map<string, number>();
  const jobs: Job[] = [];
  const counts = groups.map(({ checks }) => {
    const mine = new Set<string>();
    for (const c of checks) {
      const id = idOf(c.job);
      mine.add(id);
      if (!unique.has(id)) { unique.set(id, jobs.length); jobs.push(c.job); }
    }
    return mine.size;
  });
  const outcomes = await runJobs(jobs);
  for (const { checks, sink } of groups) {
    const seen = new Set<string>();
    for (const c of checks) {
      for (const p of c.problems(outcomes[unique.get(idOf(c.job))!]!)) {
        const line = `${c.label}: ${p} (${c.where})`;
        if (!seen.has(line)) { seen.add(line); sink.push(line); }
      }
    }
  }
  return counts;
}

beforeAll(async () => {
  const started = performance.now();
  rmSync(MARK, { force: true });
  for (const [s, seed] of SEEDS.entries()) {
    const rng = mulberry32(seed);
    for (let i = 0; i < MUTATIONS_PER_SEED; i++) {
      const m = mutate(rng);
      if (s === 0) state.firstSeedSteps.push(m.steps.join("; "));
      if (knownSlow(m.config)) state.skipped++;
      else judge(m);
    }
  }
  state.judgeSeconds = (performance.now() - started) / 1000;

  // B: scripts and env files of the accepted configs.
  const scriptChecksAll: Located[] = [];
  const envChecks: Located[] = [];
  for (const a of state.accepted) {
    const where = `mutation [${a.steps.join("; ")}]`;
    const app = a.cfg.app!;
    const p = appPaths(app.name);
    const paths: InstallPaths = { user: app.name, home: p.root, source: p.source, venv: p.venv };
    for (const c of scriptChecks(app, paths, app.install, app.requirementsFile ?? "requirements.txt", app.requirementsFile !== undefined)) {
      scriptChecksAll.push({ ...c, where });
    }
    let vars: Record<string, string>;
    let text: string;
    try {
      vars = appEnvironment(a.cfg, inputsFor(a.cfg, a.topo));
      text = renderEnvFile(vars);
    } catch (e) {
      state.envProblems.push(`env file: an accepted config cannot be rendered: ${e instanceof Error ? e.message : String(e)} (${where})`);
      continue;
    }
    const parsed = parseSystemdEnvFile(text);
    const want = new Map(Object.entries(vars));
    const diff = [...new Set([...want.keys(), ...parsed.keys()])].filter((k) => want.get(k) !== parsed.get(k));
    if (diff.length) state.envProblems.push(`env file: systemd would read ${diff.map((k) => `${k}=${show(parsed.get(k))} (wanted ${show(want.get(k))})`).join(", ")} (${where})`);
    const keys = Object.keys(vars);
    if (keys.some((k) => BASH_SPECIAL.test(k))) continue;
    envChecks.push({
      label: "env file", where, job: { kind: "env", body: text, keys },
      problems: (o) => {
        const problems = commonProblems(o, []);
        for (const r of o.records) problems.push(`sourcing it ran ${show(r)}`);
        const values = o.stdout.split("\0").slice(0, -1);
        const wrong = keys.filter((k, i) => values[i] !== vars[k]);
        if (wrong.length) problems.push(`bash reads ${wrong.map((k) => `${k}=${show(values[keys.indexOf(k)])} (wanted ${show(vars[k])})`).join(", ")}`);
        return problems;
      },
    });
  }

  // B': the builders fed raw fuzz strings (no NUL or lone surrogate: a script file cannot
  // hold them). Short strings, and a 100 000-character one in every 20th sample: long
  // values make megabyte scripts, which bash takes its time over.
  const rng = mulberry32(0x5eedd1ec);
  const usable = (s: string) => !/[\0]|\p{Surrogate}/u.test(s);
  const short = (): string => {
    const r = rng();
    const s = r < 0.6 ? pick(rng, PAYLOADS) : r < 0.85 ? pick(rng, PLAIN) : pick(rng, PLAIN) + pick(rng, PAYLOADS) + pick(rng, PLAIN);
    return usable(s) ? s : short();
  };
  const direct: Located[] = [];
  for (let i = 0; i < DIRECT_SAMPLES; i++) {
    const name = rng() < 0.5 ? pick(rng, ["shop", "a_b", "x".repeat(63)]) : short();
    const plainVenv = rng() < 0.5;
    const fields = [short(), short(), short(), plainVenv ? `/srv/${pick(rng, ["shop", "a.b-c"])}/venv` : short(), short()];
    if (i % 20 === 0) fields[Math.floor(rng() * fields.length)] = pick(rng, LONG);
    const [user, home, source, venv, requirementsFile] = fields as [string, string, string, string, string];
    const paths: InstallPaths = { user, home, source, venv };
    const opts: InstallOptions = { groups: Array.from({ length: Math.floor(rng() * 3) }, short), extras: Array.from({ length: Math.floor(rng() * 3) }, short) };
    const app = { ...(BASE.app as unknown as AppConfig), name };
    const where = `direct sample ${i}: ${show({ name, paths, opts, requirementsFile })}`;
    for (const c of scriptChecks(app, paths, opts, requirementsFile, rng() < 0.5)) direct.push({ ...c, where });
  }
  [state.scriptsRun, state.envFilesRun, state.directRun] = await runChecks([
    { checks: scriptChecksAll, sink: state.scriptProblems },
    { checks: envChecks, sink: state.envProblems },
    { checks: direct, sink: state.directProblems },
  ]);
  state.seconds = (performance.now() - started) / 1000;
}, 120_000);

afterAll(() => {
  rmSync(WORK, { recursive: true, force: true });
  rmSync(MARK, { force: true });
});

/** At most `n` lines, then how many more. */
function first(lines: readonly string[], n = 25): string[] {
  return lines.length > n ? [...lines.slice(0, n), `... and ${lines.length - n} more`] : [...lines];
}

describe("config fuzz (seeded, deterministic)", () => {
  it(`judges ${SEEDS.length * MUTATIONS_PER_SEED} mutations, some accepted and most refused`, () => {
    expect(state.mutations + state.skipped).toBe(SEEDS.length * MUTATIONS_PER_SEED);
    expect(state.mutations).toBeGreaterThanOrEqual(2000);
    expect(state.skipped).toBeLessThan(state.mutations / 100);
    expect(state.refused).toBeGreaterThan(state.mutations / 2);
    expect(state.accepted.length).toBeGreaterThan(100);
    console.info(`config fuzz: ${state.mutations} mutations judged (${state.skipped} skipped as known-slow), ${state.refused} refused, ${state.accepted.length} accepted; `
      + `${state.scriptsRun} distinct scripts and ${state.envFilesRun} env files run in bash, ${state.directRun} direct-builder scripts; `
      + `slowest config ${state.slowest.ms.toFixed(1)} ms; judging ${state.judgeSeconds.toFixed(1)} s, ${state.seconds.toFixed(1)} s in all`);
  });

  it("is deterministic: the same seed gives the same mutations", () => {
    const rng = mulberry32(SEEDS[0]!);
    const again = Array.from({ length: MUTATIONS_PER_SEED }, () => mutate(rng).steps.join("; "));
    expect(again).toEqual(state.firstSeedSteps);
  });

  it("A: every config is accepted or refused with a ConfigError whose problems each start with a key path", () => {
    expect(first(state.propertyA)).toEqual([]);
  });

  it("A: every config is judged in well under a second (100 000-character values included)", () => {
    expect(state.slowest.ms, `slowest: [${state.slowest.steps.join("; ")}]`).toBeLessThan(1000);
  });

  it("B: the install, check and manage.py scripts of accepted configs parse, run nothing real, and keep each value one argument", () => {
    expect(state.scriptsRun).toBeGreaterThan(10);
    expect(first(state.scriptProblems)).toEqual([]);
  });

  it("B: the env file of accepted configs renders, reads back to the same values (systemd and bash), and runs nothing", () => {
    expect(state.envFilesRun).toBeGreaterThan(100);
    expect(first(state.envProblems)).toEqual([]);
  });

  it("B': the script builders quote any string, even ones the schema refuses", () => {
    expect(state.directRun).toBeGreaterThan(300);
    expect(first(state.directProblems)).toEqual([]);
  });
});

describe("the fuzz harness can fail", () => {
  const tmp = () => mkdtempSync(join(WORK, "sanity-"));

  it("it sees a marker file made by an unquoted value, and an argument split in two", async () => {
    rmSync(MARK, { force: true });
    const [pwned, split, bad, ok] = await runJobs([
      { kind: "script", body: `runuser -u shop$(: >${MARK}) -- true\n` },
      { kind: "script", body: "runuser -u my shop -- true\n" },
      { kind: "script", body: "if true; then\n" },
      { kind: "script", body: "runuser -u 'my shop' -- true\n" },
    ]);
    expect(pwned!.pwned).toBe(true);
    expect(existsSync(MARK)).toBe(false);
    expect(split!.records).toEqual([["runuser", "-u", "my", "shop", "--", "true"]]);
    expect(bad!.syntaxError).not.toBe("");
    expect(ok!.records).toEqual([["runuser", "-u", "my shop", "--", "true"]]);
    expect(commonProblems(ok!, [])).toEqual([]);
  });

  it("it records commands that are not shadowed, and runs none of them", async () => {
    const dir = tmp();
    const [o] = await runJobs([{ kind: "script", body: `frobnicate --now ${join(dir, "x")}\ntouch ${join(dir, "y")}\n` }]);
    expect(o!.records).toEqual([["?frobnicate", "--now", join(dir, "x")], ["touch", join(dir, "y")]]);
    expect(existsSync(join(dir, "y"))).toBe(false);
    expect(commonProblems(o!, [])).toEqual([`unexpected command: ${show(["?frobnicate", "--now", join(dir, "x")])}`, `unexpected command: ${show(["touch", join(dir, "y")])}`]);
  });

  it("the install checks notice a group that is not one argument", async () => {
    const project: PythonProject = { method: "uv", reason: "x", requireHashes: false };
    const paths: InstallPaths = { user: "shop", home: "/srv/shop", source: "/srv/shop/source", venv: "/srv/shop/venv" };
    const opts: InstallOptions = { groups: ["a b"], extras: [] };
    const broken = installScript(project, paths, opts).replace("--group 'a b'", "--group a b");
    const [o] = await runJobs([{ kind: "script", body: broken, absolute: absoluteCommands(paths.venv) }]);
    expect(installProblems(project, paths, opts, o!)).toEqual([expect.stringMatching(/^groups \["a b"\] are not intact/)]);
  });

  it("it sees an env file that runs a command substitution when sourced", async () => {
    rmSync(MARK, { force: true });
    const [o] = await runJobs([{ kind: "env", body: `A="x$(: >${MARK})"\nB="$(touch y)"\n`, keys: ["A", "B"] }]);
    expect(o!.pwned).toBe(true);
    expect(o!.records).toEqual([["touch", "y"]]);
    expect(o!.stdout.split("\0").slice(0, -1)).toEqual(["x", ""]);
  });

  it("the env file check reads systemd's rules", () => {
    expect(parseSystemdEnvFile('# c\nA="x\\"y\\$z\\`\\\\"\nB="multi\nline"\nC=plain  \nD="\\n"\n')).toEqual(new Map([
      ["A", 'x"y$z`\\'], ["B", "multi\nline"], ["C", "plain"], ["D", "\\n"],
    ]));
  });
});
