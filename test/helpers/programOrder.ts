/**
 * Whether what the program registers keeps the plan's order (plan/order.ts): each resource
 * that reaches a host is placed on that host's stage (by the component it belongs to), and
 * every dependency between two different stages must be one the plan's order holds,
 * directly or through others. A dependency the plan does not know would let the
 * benchmark's peers run a step before what it needs.
 */
import { readInventory } from "../../config/files.ts";
import { parseConfig } from "../../config/load.ts";
import { pinnedFacts } from "../../config/releases.ts";
import { buildTopology } from "../../config/topology.ts";
import { planFleet } from "../../plan/fleetPlan.ts";
import { nodeKey, planOrder, type Stage } from "../../plan/order.ts";

/** A registered resource as the program test records it. */
export interface OrderedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
  readonly options?: { readonly parent: string; readonly dependencies: readonly string[] };
}

/** The stage of each component's work (plan/order.ts's {@link Stage}). */
const COMPONENT_STAGE: Record<string, Stage> = {
  Host: "baseline", Firewall: "baseline", LoggingServer: "services",
  DbServer: "services", DbReplica: "services", MariaDbServer: "services", MariaDbReplica: "services",
  PgBackup: "services", MariaDbBackup: "services", Broker: "services", Cache: "services",
  AppRelease: "build", MediaBackup: "build", AppNode: "switch",
  CeleryWorker: "consumers", LoadBalancer: "consumers", AcmeCertificates: "consumers",
};

/** A resource's stage: by its component, but for the steps a component takes in another stage. */
function stageOf(r: OrderedResource, component: string): Stage | undefined {
  // Steps registered at the top: a host's object-store CA is its baseline; app records and Debian's own Redis masked are a server's.
  if (component === "") return r.name.endsWith("-object-store-ca") ? "baseline" : "services";
  // Each host's log key, signed by the log server.
  if (component === "LoggingServer" && r.name.startsWith("logging-csr-")) return "baseline";
  if (component === "AppRelease" && r.name.endsWith("-activate")) return "switch";
  // DjangoApp's own steps: the app's Redis servers, its migration and its static copy.
  if (component === "DjangoApp") {
    if (/-redis-[a-z0-9-]+-(conf|secret|auth|service)$/.test(r.name)) return "services";
    if (r.name.endsWith("-migrate")) return "build";
    if (r.type.endsWith(":StaticCopy")) return "consumers";
    return undefined;
  }
  return COMPONENT_STAGE[component];
}

/** The URN the engine gives a resource (its parent's type chain, its type, its name). */
export function urnOf(r: OrderedResource): string {
  return `${r.options?.parent ? r.options.parent.replace(/::[^:]*$/, "") + "$" : "urn:pulumi:test::django-fleet::"}${r.type}::${r.name}`;
}

/** The dependencies between stages that the plan's order does not hold, one line each. */
export function outOfOrder(resources: readonly OrderedResource[], config: Record<string, unknown>, plain: (v: unknown) => unknown): string[] {
  const cfg = parseConfig(Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined)
    .map(([k, v]) => [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));
  const topo = buildTopology(cfg, cfg.inventoryFile ? readInventory(cfg.inventoryFile) : undefined);
  const facts = pinnedFacts("debian13");
  const order = planOrder(planFleet(cfg, topo, new Map(topo.hosts.map((h) => [h.name, facts]))));
  const hostByAddress = new Map(topo.hosts.map((h) => [h.address, h.name]));
  const problems: string[] = [];
  const nodeOf = new Map<string, string>();
  for (const r of resources) {
    const connection = plain(r.inputs.connection) as { host?: string } | undefined;
    if (!connection?.host) continue;
    const host = hostByAddress.get(connection.host);
    const component = /:([A-Za-z]+)::[^:]*$/.exec(r.options?.parent ?? "")?.[1] ?? "";
    const stage = stageOf(r, component);
    if (!host || !stage) { problems.push(`${r.name}: no stage for component ${component || "(none)"} on ${connection.host}`); continue; }
    const key = nodeKey(host, stage);
    if (!order.after.has(key)) { problems.push(`${r.name}: the plan has no stage ${key}`); continue; }
    nodeOf.set(urnOf(r), key);
  }
  const reach = (from: string, to: string, seen = new Set<string>()): boolean => {
    if (from === to) return true;
    if (seen.has(from)) return false;
    seen.add(from);
    return [...order.after.get(from)!].some((d) => reach(d, to, seen));
  };
  for (const r of resources) {
    const k = nodeOf.get(urnOf(r));
    if (!k) continue;
    for (const d of r.options?.dependencies ?? []) {
      const dk = nodeOf.get(d);
      if (dk && !reach(k, dk)) problems.push(`${r.name} (${k}) after ${d.replace(/^.*::/, "")} (${dk})`);
    }
  }
  return problems;
}
