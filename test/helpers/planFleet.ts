/**
 * Fleets for the plan's tables (test/unit/plan*.test.ts): raw config as Pulumi hands it
 * over, parsed and turned into a topology the way the program does (config/load.ts,
 * config/topology.ts), then planned with every host on one pinned release.
 */
import { parseConfig } from "../../config/load.ts";
import { pinnedFacts, type ReleaseId } from "../../config/releases.ts";
import type { Role, StackConfig } from "../../config/schema.ts";
import { buildTopology, type Topology } from "../../config/topology.ts";
import { planFleet, type FleetPlan, type HostServicesPlan } from "../../plan/fleetPlan.ts";

export const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
export const ALL_ROLES: Role[] = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"];

/** A host whose public address is 203.0.113.<n> and private one 10.1.0.<n>. */
export function host(name: string, n: number, roles: Role[]) {
  return { name, address: `203.0.113.${n}`, privateAddress: `10.1.0.${n}`, hostKey: KEY, roles };
}

/** The app `shop`, with `over` merged in. */
export function shop(over: Record<string, unknown> = {}) {
  return { name: "shop", repo: "git://x/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application", ...over };
}

/** An object store's target (a bucket of its own per use). */
export function target(bucket: string, caFile?: string) {
  return { endpoint: "https://s3.example.net", bucket, accessKeyId: "AKID", secretAccessKey: "SECRET", ...(caFile ? { caFile } : {}) };
}

/** Parsed config: one host with every role and `shop`, unless `over` says otherwise. */
export function config(over: Record<string, unknown> = {}): StackConfig {
  const base: Record<string, unknown> = {
    hosts: [host("web", 1, ALL_ROLES)], app: shop(), sshPrivateKeyPath: "/root/.ssh/id", ...over,
  };
  return parseConfig(Object.fromEntries(Object.entries(base).filter(([, v]) => v !== undefined)
    .map(([k, v]) => [`django-fleet:${k}`, typeof v === "string" ? v : JSON.stringify(v)])));
}

/** The plan of a config, every host on `release`. */
export function planOf(over: Record<string, unknown> = {}, release: ReleaseId = "debian13"): { cfg: StackConfig; topo: Topology; plan: FleetPlan } {
  const cfg = config(over);
  const topo = buildTopology(cfg);
  const facts = pinnedFacts(release);
  return { cfg, topo, plan: planFleet(cfg, topo, new Map(topo.hosts.map((h) => [h.name, facts]))) };
}

/** A host's plan by name. */
export function hostIn(plan: FleetPlan, name: string): HostServicesPlan {
  const h = plan.hosts.find((x) => x.host.name === name);
  if (!h) throw new Error(`no host ${name} in the plan`);
  return h;
}

/**
 * A host's plan in one line per decision, for tables: the services, then each listener
 * (`<service> <addresses>`), then what it does for each app.
 */
export function summary(h: HostServicesPlan): string[] {
  const l = (a: readonly string[]) => a.join(",");
  return [
    `services ${h.services.join(" ")}`,
    ...(h.database ? [`${h.database.engine} ${h.database.role} ${l(h.database.listenAddresses)}:${h.database.port}`] : []),
    ...(h.rabbitmq ? [`rabbitmq ${l(h.rabbitmq.listenAddresses)}:${h.rabbitmq.port}`] : []),
    ...(h.memcached ? [`memcached ${l(h.memcached.listenAddresses)}`] : []),
    ...h.redis.map((r) => `redis ${r.app} ${l(r.listenAddresses)}:${r.port}`),
    ...(h.logging ? [`logs to ${h.logging.shipsTo}:${h.logging.port}${h.logging.server ? ` from ${l(h.logging.server.allowedSenders)}` : ""}`] : []),
    ...(h.nginx?.sites.map((s) => `site ${s.app} -> ${s.upstreams.map((u) => `${u.address}:${u.port}`).join(" ")}${s.staticCopy ? " (static copy)" : ""}`) ?? []),
    ...h.apps.map((a) => [
      `code ${a.app}`,
      ...(a.migrates ? ["migrates"] : []),
      ...(a.gunicorn ? [`gunicorn ${a.gunicorn.bindAddress}:${a.gunicorn.port}`] : []),
      ...(a.celery?.worker ? ["worker"] : []),
      ...(a.celery?.beat ? ["beat"] : []),
    ].join(" ")),
    ...h.staticCopies.map((a) => `static copy of ${a}`),
    ...(h.objectStoreCa ? [`ca ${h.objectStoreCa.files.join(" ")}`] : []),
  ];
}
