/**
 * What the deploy benchmark (bench/deploys.ts) does, as data: the hosts, the stack config
 * for the old and the new code, the sequence of deploys, its settings from the
 * environment, and how a node's release is read. Pure. This is the five-host shape; the
 * one-host shape (BENCH_SHAPE=one-host) is in oneHostPlan.ts, and deployShapes.ts picks.
 */
import type { Variant } from "../test/helpers/appCommits.ts";
import { VARIANT_SPECS } from "../test/helpers/appCommits.ts";

/** The code before issue 11: one checkout and virtualenv per host, changed in place. */
export const OLD_COMMIT_DEFAULT = "0fc827d";

/**
 * The benchmark's shapes (BENCH_SHAPE): `five-host`, the prod-like fleet below (issue 11's
 * rolling switch); `one-host`, every role on one host (issue 25's socket and side gate).
 */
export const SHAPES = ["five-host", "one-host"] as const;
export type ShapeName = (typeof SHAPES)[number];

/**
 * The old code each shape compares with when BENCH_OLD_REF is unset. one-host: main just
 * before issue 25 (releases and the gated switch, but the only node restarts in place).
 */
export const OLD_COMMIT_DEFAULTS: Readonly<Record<ShapeName, string>> = { "five-host": OLD_COMMIT_DEFAULT, "one-host": "a04b26b" };
/** The throwaway stack (its config file matches .gitignore's `Pulumi.e2e-*.yaml`). */
export const STACK_NAME = "e2e-bench-deploys";
export const APP = "fleetdemo";

export interface HostDef { readonly name: string; readonly roles: readonly string[] }

/** The prod-like fleet of test/e2e/prod.test.ts, without the replica: two app nodes behind one load balancer. */
export const BENCH_HOSTS: readonly HostDef[] = [
  { name: "lb", roles: ["loadBalancer", "logging"] },
  { name: "app1", roles: ["app"] },
  { name: "app2", roles: ["app"] },
  { name: "worker", roles: ["worker", "beat", "broker", "cache"] },
  { name: "db", roles: ["db"] },
];
export const APP_NODES: readonly string[] = BENCH_HOSTS.filter((h) => h.roles.includes("app")).map((h) => h.name);

/** The object store the two app nodes share uploads through (test/helpers/objectStore.ts). */
export interface MediaStore {
  readonly endpoint: string;
  readonly caFile: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export type Code = "old" | "new";
export type ConfigValue = { value: string; secret?: boolean };

export interface DeploySettings {
  /** app.healthCheck (new code only). */
  readonly healthPath: string;
  readonly healthTimeoutSeconds: number;
  /** deploy.* (new code only). */
  readonly batchSize: number;
  readonly drainSeconds: number;
}

export const DEFAULT_DEPLOY_SETTINGS: DeploySettings = { healthPath: "/healthz", healthTimeoutSeconds: 60, batchSize: 1, drainSeconds: 5 };

/**
 * The stack config, as prod.test.ts's prodConfig (memcached, RabbitMQ, self-signed TLS,
 * media in S3) for the single app `fleetdemo` at `ref`. The new code also gets the health
 * check and rollout settings of issue 11, which the old code's schema would refuse.
 */
export function benchConfig(o: {
  readonly code: Code;
  readonly ref: string;
  readonly inventoryFile: string;
  readonly media: MediaStore;
  readonly gitServer?: string;
  readonly settings?: DeploySettings;
}): Record<string, ConfigValue> {
  const c = (v: unknown): ConfigValue => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  const s = o.settings ?? DEFAULT_DEPLOY_SETTINGS;
  const app: Record<string, unknown> = {
    name: APP, repo: `git://${o.gitServer ?? "198.18.0.1"}/fleetdemo.git`, ref: o.ref,
    settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
  };
  if (o.code === "new") app.healthCheck = { path: s.healthPath, timeoutSeconds: s.healthTimeoutSeconds };
  return {
    "django-fleet:media": {
      ...c({ storage: "s3", target: { endpoint: o.media.endpoint, bucket: "fleet-media", pathStyle: true, caFile: o.media.caFile, accessKeyId: o.media.accessKeyId, secretAccessKey: o.media.secretAccessKey } }),
      secret: true,
    },
    "django-fleet:inventoryFile": c(o.inventoryFile),
    "django-fleet:hosts": c(BENCH_HOSTS),
    "django-fleet:app": c(app),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
    "django-fleet:loadBalancer": c({ tls: "selfSigned" }),
    "django-fleet:cache": c({ kind: "memcached" }),
    ...(o.code === "new" ? { "django-fleet:deploy": c({ batchSize: s.batchSize, drainSeconds: s.drainSeconds }) } : {}),
  };
}

/** The broken release the benchmark deploys: /healthz answers 500, or the WSGI module fails to import. */
export type Broken = Extract<Variant, "unhealthy" | "importError">;

export interface DeployStep {
  readonly code: Code;
  /** The ref set as app.ref: a branch of fleetdemo.git. */
  readonly ref: string;
  /** The ref the fleet runs before this step. */
  readonly from: string;
  readonly what: string;
  /** Whether the load runs during the up (the first build has no site to load yet). */
  readonly load: boolean;
  /** What a correct run does: the up succeeds, fails, or either (the old code has no gate). */
  readonly expect: "succeeds" | "fails" | "either";
  /** app.env for this up (one-host shape). @default unset: no extra variables */
  readonly env?: Readonly<Record<string, string>>;
  /** app.gunicorn.timeoutSeconds, which also sets the unit file's TimeoutStopSec (one-host shape). @default unset: the schema's 30 */
  readonly gunicornTimeoutSeconds?: number;
}

/** The deploys in order: the old code's, then the new code's, on the same hosts and stack. */
export function deploySequence(broken: Broken): DeployStep[] {
  const bad = VARIANT_SPECS[broken].branch;
  return [
    { code: "old", ref: "main", from: "(bare hosts)", what: "first build", load: false, expect: "succeeds" },
    { code: "old", ref: "v2", from: "main", what: "good release, in place", load: true, expect: "succeeds" },
    { code: "old", ref: bad, from: "v2", what: "broken release, in place", load: true, expect: "either" },
    { code: "old", ref: "main", from: bad, what: "recover, in place", load: true, expect: "succeeds" },
    { code: "new", ref: "main", from: "main", what: "upgrade to releases", load: true, expect: "succeeds" },
    { code: "new", ref: "v2", from: "main", what: "good release, rolling", load: true, expect: "succeeds" },
    { code: "new", ref: bad, from: "v2", what: "broken release, health gate", load: true, expect: "fails" },
    { code: "new", ref: "main", from: "v2", what: "rollback to a kept release", load: true, expect: "succeeds" },
  ];
}

export interface BenchOptions {
  /** BENCH_SHAPE. @default "five-host" */
  readonly shape: ShapeName;
  readonly workers: number;
  readonly pauseMs: number;
  readonly timeoutMs: number;
  /** Seconds the load runs before the up starts, and after it ends. */
  readonly leadSeconds: number;
  readonly tailSeconds: number;
  readonly broken: Broken;
  readonly oldRef: string;
  /** Leave the hosts, object store, state and old checkout in place at the end (to look around). */
  readonly keep: boolean;
  /** Boot even when test hosts are up already (scripts/testhosts down stops them first). */
  readonly takeHosts: boolean;
  readonly settings: DeploySettings;
}

/** BENCH_* environment variables -> options; throws naming the bad variable. */
export function benchOptions(env: Readonly<Record<string, string | undefined>>): BenchOptions {
  const num = (name: string, def: number, min: number, max: number, int = true): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return def;
    const v = Number(raw);
    if (!Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min || v > max) {
      throw new Error(`${name}=${JSON.stringify(raw)}: must be ${int ? "an integer" : "a number"} from ${min} to ${max}`);
    }
    return v;
  };
  const flag = (name: string) => ["1", "true", "yes"].includes((env[name] ?? "").trim().toLowerCase());
  const brokenRaw = (env.BENCH_BROKEN ?? "importError").trim();
  const broken = ({ unhealthy: "unhealthy", importerror: "importError" } as const)[brokenRaw.toLowerCase() as "unhealthy" | "importerror"];
  if (!broken) throw new Error(`BENCH_BROKEN=${JSON.stringify(brokenRaw)}: must be unhealthy or importError`);
  const shapeRaw = (env.BENCH_SHAPE ?? "").trim().toLowerCase() || "five-host";
  const shape = SHAPES.find((x) => x === shapeRaw);
  if (!shape) throw new Error(`BENCH_SHAPE=${JSON.stringify(env.BENCH_SHAPE)}: must be ${SHAPES.join(" or ")}`);
  const oldRef = (env.BENCH_OLD_REF ?? OLD_COMMIT_DEFAULTS[shape]).trim();
  if (!/^[0-9a-f]{7,40}$/.test(oldRef)) throw new Error(`BENCH_OLD_REF=${JSON.stringify(oldRef)}: must be a commit id (7 to 40 hex digits)`);
  return {
    shape,
    workers: num("BENCH_LOAD_WORKERS", 4, 1, 64),
    pauseMs: num("BENCH_LOAD_PAUSE_MS", 100, 0, 60_000),
    timeoutMs: num("BENCH_LOAD_TIMEOUT_MS", 10_000, 100, 120_000),
    leadSeconds: num("BENCH_LOAD_LEAD_S", 3, 0, 600),
    tailSeconds: num("BENCH_LOAD_TAIL_S", 5, 0, 600),
    broken,
    oldRef,
    keep: flag("BENCH_KEEP"),
    takeHosts: flag("BENCH_TAKE_HOSTS"),
    settings: {
      ...DEFAULT_DEPLOY_SETTINGS,
      drainSeconds: num("BENCH_DRAIN_S", DEFAULT_DEPLOY_SETTINGS.drainSeconds, 0, 3600, false),
      healthTimeoutSeconds: num("BENCH_HEALTH_TIMEOUT_S", DEFAULT_DEPLOY_SETTINGS.healthTimeoutSeconds, 1, 3600),
    },
  };
}

/**
 * Prints, on an app node, which code it runs: `releases <commit12> <kept>` (a `current`
 * link into /srv/<app>/releases), or `in-place <commit12>` (the old checkout), then
 * `gunicorn <state>`.
 */
export function nodeProbeScript(app: string): string {
  const root = `/srv/${app}`;
  return [
    `if [ -L ${root}/current ]; then`,
    `  echo "releases $(basename "$(readlink ${root}/current)") $(find ${root}/releases -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l)"`,
    `elif [ -d ${root}/source ]; then`,
    `  echo "in-place $(git -c safe.directory='*' -C ${root}/source rev-parse --short=12 HEAD 2>/dev/null || echo '?')"`,
    `else`,
    `  echo none`,
    `fi`,
    `echo "gunicorn $(systemctl is-active ${app}-gunicorn.service 2>/dev/null || true)"`,
  ].join("\n") + "\n";
}

export interface NodeState {
  readonly layout: "releases" | "in-place" | "none" | "unknown";
  /** First 12 characters of the commit it runs (or "?"). */
  readonly commit: string;
  /** Releases kept on the node (releases layout only). */
  readonly kept: number | null;
  readonly gunicorn: string;
}

export function parseNodeProbe(out: string): NodeState {
  const lines = out.split("\n").map((l) => l.trim()).filter(Boolean);
  const [layout, commit, kept] = (lines[0] ?? "").split(/\s+/);
  const gunicorn = lines.find((l) => l.startsWith("gunicorn"))?.slice("gunicorn".length).trim() || "?";
  if (layout === "releases") return { layout, commit: (commit ?? "?").slice(0, 12), kept: kept !== undefined && /^\d+$/.test(kept) ? Number(kept) : null, gunicorn };
  if (layout === "in-place") return { layout, commit: (commit ?? "?").slice(0, 12), kept: null, gunicorn };
  if (layout === "none") return { layout, commit: "-", kept: null, gunicorn };
  return { layout: "unknown", commit: "?", kept: null, gunicorn };
}

/** `v2 (releases, 2 kept, gunicorn active)`: a node's state with the commit named by its ref. */
export function describeNode(s: NodeState, refOf: Readonly<Record<string, string>>): string {
  const name = refOf[s.commit] ?? s.commit;
  const where = s.layout === "releases" ? `releases${s.kept === null ? "" : `, ${s.kept} kept`}` : s.layout;
  return `${name} (${where}, gunicorn ${s.gunicorn})`;
}
