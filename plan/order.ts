/**
 * The order of the fleet's work, as data: each host's work falls in up to five stages
 * (its baseline, the services it offers, an app's release, its switch, what waits for
 * every app node), and the stages of different hosts wait for each other as the services
 * need. From that graph come the waves a plain tool runs the hosts in (the benchmark's
 * peers): each stage as soon as what it waits for is done, as the engine runs the
 * program's steps. Pure: no resource, no I/O. test/unit/program.test.ts checks that every
 * dependency the program registers between hosts and stages is one this graph holds.
 */
import type { FleetPlan, HostServicesPlan } from "./fleetPlan.ts";

/**
 * Where a step falls on its host, in the order a host runs them: `baseline`, what the host
 * gets first (firewall, packages, its log key); `services`, what it offers others or ships
 * to them (database, broker, cache, log server; log shipping); `build`, an app's release
 * (checkout, virtualenv, settings, static files, the migration); `switch`, the release put
 * in service (gunicorn, the workers' code link); `consumers`, what waits for every node of
 * an app (its Celery, the load balancer's site for it).
 */
export type Stage = "baseline" | "services" | "build" | "switch" | "consumers";

/** The stages, in the order a host runs them. */
export const STAGES: readonly Stage[] = ["baseline", "services", "build", "switch", "consumers"];

/** One host's run in a wave: the stages it runs then, in order. */
export interface HostRun {
  readonly host: string;
  readonly stages: readonly Stage[];
}

/** The fleet's order. */
export interface FleetOrder {
  /** Each host's stages, in order (see {@link stagesOf}). */
  readonly stages: ReadonlyMap<string, readonly Stage[]>;
  /** What each stage waits for (keys and values by {@link nodeKey}). */
  readonly after: ReadonlyMap<string, ReadonlySet<string>>;
}

/** A stage's key in {@link FleetOrder.after}. */
export function nodeKey(host: string, stage: Stage): string {
  return `${host}/${stage}`;
}

/** The host offers a service that other hosts' work needs first. */
function serves(h: HostServicesPlan): boolean {
  return h.database?.role === "primary" || !!h.rabbitmq || h.redis.length > 0 || !!h.memcached || !!h.logging?.server;
}

/** A host's stages: the baseline always; services where it serves, ships logs or holds a replica; build and switch where an app's code runs; consumers where Celery or nginx does. */
function stagesOf(h: HostServicesPlan): Stage[] {
  const has: Record<Stage, boolean> = {
    baseline: true,
    services: serves(h) || !!h.logging || !!h.database,
    build: h.apps.length > 0,
    switch: h.apps.length > 0,
    consumers: !!h.nginx || h.apps.some((a) => a.celery),
  };
  return STAGES.filter((s) => has[s]);
}

/** How the fleet's work is done, where that changes the order. */
export interface OrderOptions {
  /**
   * Each host's log shipping uses a certificate the log server signs (the program's): the
   * log server waits for every host's key, and every host's shipping for the log server.
   * The benchmark's peers ship plain TCP, which waits for nothing. @default true
   */
  readonly signedLogs?: boolean;
}

/** The fleet's order: each host's stages and, for each stage, what it waits for on this and other hosts. */
export function planOrder(plan: FleetPlan, options: OrderOptions = {}): FleetOrder {
  const stages = new Map(plan.hosts.map((h) => [h.host.name, stagesOf(h)]));
  const after = new Map<string, Set<string>>();
  for (const [host, list] of stages) for (const s of list) after.set(nodeKey(host, s), new Set());
  const edge = (host: string, stage: Stage, onHost: string, onStage: Stage) => {
    const k = nodeKey(host, stage);
    const on = nodeKey(onHost, onStage);
    if (k !== on && after.has(k) && after.has(on)) after.get(k)!.add(on);
  };
  const servers = plan.hosts.filter(serves).map((h) => h.host.name);
  const logServer = plan.hosts.find((h) => h.logging?.server)?.host.name;
  const primary = plan.hosts.find((h) => h.database?.role === "primary")?.host.name;
  for (const h of plan.hosts) {
    const name = h.host.name;
    const list = stages.get(name)!;
    // A host's stages in order.
    list.forEach((s, n) => { if (n > 0) edge(name, s, name, list[n - 1]!); });
    // An app's release (its migration, its settings' checks) after the shared services.
    for (const server of servers) if (server !== name) edge(name, "build", server, "services");
    // The log server signs each host's key, and each host ships with the certificate.
    if (logServer && logServer !== name && options.signedLogs !== false) {
      edge(logServer, "services", name, "baseline");
      edge(name, "services", logServer, "services");
    }
    // A replica copies its primary.
    if (primary && h.database?.role === "replica") edge(name, "services", primary, "services");
  }
  for (const a of plan.apps) {
    // Every host switches to a release after its migration ran.
    for (const code of a.codeHosts) edge(code, "switch", a.migrator, "build");
    // Its Celery and the load balancer's site after every host switched.
    const consumers = plan.hosts.filter((h) => h.apps.some((x) => x.app === a.app && x.celery) || h.nginx?.sites.some((x) => x.app === a.app));
    for (const c of consumers) for (const code of a.codeHosts) edge(c.host.name, "consumers", code, "switch");
  }
  return { stages, after };
}

/**
 * The waves a plain tool runs the fleet in: the runs in order, the runs of a wave side by
 * side on different hosts. Each stage runs as soon as what it waits for is done (as the
 * engine runs the program's steps): in each round every host takes the stages it can, in
 * order, so a host's stages share a run wherever nothing on another host must come between
 * them. `together`: stages a host must run in one run when it has them (a plain tool
 * restarts what a step changed only within the run that changed it). @default none
 */
export function wavesOf(order: FleetOrder, together: readonly Stage[] = []): HostRun[][] {
  const placed = new Set<string>();
  const remaining = new Map([...order.stages].map(([h, list]) => [h, [...list]]));
  const out: HostRun[][] = [];
  while ([...remaining.values()].some((l) => l.length > 0)) {
    const round: HostRun[] = [];
    for (const [host, list] of remaining) {
      // Only this host's own stages may be taken in the same run: another host's run of
      // this round goes side by side with it.
      const taken = new Set<string>();
      while (list.length > 0) {
        // The next stage, or the whole group of stages that must share its run.
        const n = groupLength(list, together);
        const next = list.slice(0, n).map((s) => nodeKey(host, s));
        const trial = new Set(taken);
        if (!next.every((k) => { const ok = [...order.after.get(k)!].every((d) => placed.has(d) || trial.has(d)); trial.add(k); return ok; })) break;
        for (const k of next) taken.add(k);
        list.splice(0, n);
      }
      if (taken.size > 0) round.push({ host, stages: STAGES.filter((s) => taken.has(nodeKey(host, s))) });
    }
    if (round.length === 0) throw new Error(`the fleet's order has a cycle among ${[...remaining].filter(([, l]) => l.length).map(([h]) => h).join(", ")}`);
    for (const r of round) for (const s of r.stages) placed.add(nodeKey(r.host, s));
    out.push(round);
  }
  return out;
}

/** How many of a host's next stages must be taken at once: the run of `together` stages it starts with, else one. */
function groupLength(list: readonly Stage[], together: readonly Stage[]): number {
  if (!together.includes(list[0]!)) return 1;
  const end = list.findIndex((s) => !together.includes(s));
  return end === -1 ? list.length : end;
}
