/**
 * The deploy benchmark's one-host shape (BENCH_SHAPE=one-host), as data: one host holding
 * every role (test/e2e/dev.test.ts's dev stack), its stack config, the sequence of deploys
 * and the report's words. Pure.
 *
 * Its question is issue 25's: on the only app node, which nginx cannot route around, how
 * many requests fail while a release, an env file or the gunicorn unit file changes, and
 * when a release is broken. The old code (a04b26b) has releases and the gated switch, but
 * restarts the node's gunicorn in place; this checkout keeps the listening socket in
 * systemd and checks a release beside the running one first (lib/sideGate.ts). Both codes
 * take the same config, so the old and the new rows are the same deploys.
 */
import { VARIANT_SPECS } from "../test/helpers/appCommits.ts";
import { APP, DEFAULT_DEPLOY_SETTINGS, type Broken, type ConfigValue, type DeploySettings, type DeployStep, type HostDef } from "./deployPlan.ts";
import type { ReportText } from "./deployReport.ts";

/** dev.test.ts's host: every role but the cache, the replica and a separate load balancer. */
export const ONE_HOST: HostDef = { name: "fleet-one", roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] };
export const ONE_HOST_NODES: readonly string[] = [ONE_HOST.name];
/** Its own throwaway stack, so a leftover five-host stack file is never picked up (matches .gitignore's `Pulumi.e2e-*.yaml`). */
export const ONE_HOST_STACK = "e2e-bench-deploys-one-host";

/** The env change: dev.test.ts's extra variable. */
export const EXTRA_ENV: Readonly<Record<string, string>> = { FLEET_ZERO_DOWNTIME: "1" };
/** The unit-file change: a gunicorn timeout other than the schema's 30 (the unit's TimeoutStopSec is the timeout + 5), as dev.test.ts sets. */
export const CHANGED_TIMEOUT_SECONDS = 31;
/** dev.test.ts's gunicorn workers. */
export const ONE_HOST_WORKERS = 2;

/**
 * dev.test.ts's devConfig (RabbitMQ, plain http, no cache, media on the host) for `fleetdemo`
 * at the step's ref, with the health check of `settings` and the step's env and gunicorn
 * timeout. No `deploy.*`: one app node is never drained. The same for the old and the
 * new code (a04b26b has the health check, app.env and gunicorn.timeoutSeconds already).
 */
export function oneHostConfig(o: {
  readonly step: Pick<DeployStep, "ref" | "env" | "gunicornTimeoutSeconds">;
  readonly inventoryFile: string;
  readonly gitServer?: string;
  readonly settings?: DeploySettings;
}): Record<string, ConfigValue> {
  const c = (v: unknown): ConfigValue => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  const s = o.settings ?? DEFAULT_DEPLOY_SETTINGS;
  const gunicorn: Record<string, number> = { workers: ONE_HOST_WORKERS };
  if (o.step.gunicornTimeoutSeconds !== undefined) gunicorn.timeoutSeconds = o.step.gunicornTimeoutSeconds;
  return {
    "django-fleet:inventoryFile": c(o.inventoryFile),
    "django-fleet:hosts": c([ONE_HOST]),
    // The whole app object each time: setAllConfig replaces it, so an env or timeout left out is gone.
    "django-fleet:app": c({
      name: APP, repo: `git://${o.gitServer ?? "198.18.0.1"}/fleetdemo.git`, ref: o.step.ref,
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      gunicorn,
      healthCheck: { path: s.healthPath, timeoutSeconds: s.healthTimeoutSeconds },
      ...(o.step.env ? { env: o.step.env } : {}),
    }),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
  };
}

/**
 * The deploys in order: the old code's, then this checkout's from the state the old code
 * left. After the first build (old) and the upgrade (new), both run dev.test.ts's
 * zero-downtime deploys: a new release, an env change, a unit-file change, a broken
 * release (the gate leaves v2 running), and back to the first release with the default
 * env and unit file in one up.
 */
export function oneHostSequence(broken: Broken): DeployStep[] {
  const bad = VARIANT_SPECS[broken].branch;
  const deploys = (code: DeployStep["code"]): DeployStep[] => [
    { code, ref: "v2", from: "main", what: "new release", load: true, expect: "succeeds" },
    { code, ref: "v2", from: "v2", what: "env change (app.env)", load: true, expect: "succeeds", env: EXTRA_ENV },
    { code, ref: "v2", from: "v2", what: `unit-file change (gunicorn.timeoutSeconds ${CHANGED_TIMEOUT_SECONDS})`, load: true, expect: "succeeds", env: EXTRA_ENV, gunicornTimeoutSeconds: CHANGED_TIMEOUT_SECONDS },
    // Both codes gate it: the up fails and the node runs v2 after it.
    { code, ref: bad, from: "v2", what: "broken release, gated", load: true, expect: "fails", env: EXTRA_ENV, gunicornTimeoutSeconds: CHANGED_TIMEOUT_SECONDS },
    { code, ref: "main", from: "v2", what: "back to the first release (commit, env and unit file at once)", load: true, expect: "succeeds" },
  ];
  return [
    { code: "old", ref: "main", from: "(bare host)", what: "first build", load: false, expect: "succeeds" },
    ...deploys("old"),
    { code: "new", ref: "main", from: "main", what: "upgrade to the socket (restarts once)", load: true, expect: "succeeds" },
    ...deploys("new"),
  ];
}

/** The one-host report's words. */
export const ONE_HOST_TEXT: ReportText = {
  title: "Deploys under load on one host: the only app node restarted in place (before issue 25) vs gunicorn on a systemd socket with the side gate",
  code: { old: "before (restart in place)", new: "after (socket, side gate)" },
  measured: [
    "- One run, one test host with every role, one stack: the old code's deploys, then the new code's from the state the old code left.",
    "  Both take the same config at each step; there is one app node, so nothing is drained.",
    "- sent / failed: GET requests to nginx's http://<host>/ on that host from the start of the load (before the up) to its stop (after it);",
    "  failed = a status outside 2xx, a connection error or a timeout. p50 / p99: latency of every request, failed ones included.",
    "- up s: the Automation API's `up`, from call to return (a failed up included).",
    "- switch s: from the first engine event of the node's gunicorn restarts to their last: its ReleaseSwitch and the gunicorn",
    "  SystemdService (which restarted gunicorn for a unit-file change before issue 25). `-`: neither changed; `failed`: one failed.",
    "  Which of them changed is in the details' errors column (`switch steps`).",
    "- busy s: from the host's first changing resource to its last (every role is on it, so this is nearly the whole up).",
    "- Event times are when the Automation API delivered them (it polls its event log every 200 ms).",
  ],
};
