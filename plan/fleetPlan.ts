/**
 * The plan of the fleet: config, topology and each host's facts in, for every host the
 * services it runs, where each listens, the files of ours it gets and what it does for
 * each app; for every app, where its code runs, who migrates, its upstreams and whether
 * the load balancer gets a copy of its static files. Pure: no resource, no I/O.
 *
 * It holds the decisions that the components (services/*, components/djangoApp.ts, fleet/*)
 * take through the same functions (plan/listen.ts, plan/placement.ts, plan/files.ts), so
 * the benchmark's peers (bench/peers/render.ts) and the tests read them here instead of
 * computing them again. The order of each host's work across the fleet is plan/order.ts
 * (checked against every dependency the program registers); the resources themselves are
 * still made by the components.
 */
import type { StackConfig } from "../config/schema.ts";
import type { HostFacts } from "../config/releases.ts";
import { runsAppRedis } from "../config/environment.ts";
import { HOST_CA_FILE, backupStore, mediaStore } from "../config/objectStore.ts";
import { addressFrom, type HostPlan, type Topology } from "../config/topology.ts";
import { servicesOn } from "../services/index.ts";
import { gunicornSocketName } from "../services/app/systemdUnits.ts";
import { FIREWALL_FILES, LOGGING_FILES, MARIADB_CONF, NGINX_FILES, RABBITMQ_FILES, celeryFiles, gunicornFiles, nginxSitePath, postgresFiles, unitFilePath } from "./files.ts";
import { gunicornBindAddress, listenAddresses, logSenders, upstreamsOf, type Upstream } from "./listen.ts";
import { migratorOf, objectStoreCaHosts, runsCodeOf, staticCopyHostOf } from "./placement.ts";
import type { HostApp, HostDatabase, HostServicesPlan } from "./hostPlan.ts";

export type * from "./hostPlan.ts";

/** Where one app runs, by host name. */
export interface AppPlacement {
  readonly app: string;
  /** The hosts that run its code (app, worker and beat hosts), in the topology's order. */
  readonly codeHosts: readonly string[];
  /** The host that runs its migrations. */
  readonly migrator: string;
  /** Its app nodes as the load balancer reaches them, in upstream order. */
  readonly upstreams: readonly Upstream[];
  /** Its Celery workers' hosts. */
  readonly workers: readonly string[];
  /** Its beat's host. @default none: its beat is off */
  readonly beat?: string;
  /** The load balancer that gets a copy of its static files (it runs none of its code). @default none */
  readonly staticCopyTo?: string;
}

/** The whole fleet's plan. */
export interface FleetPlan {
  /** One plan per host, in the topology's (config's) order. */
  readonly hosts: readonly HostServicesPlan[];
  /** One placement per app, in config order. */
  readonly apps: readonly AppPlacement[];
}

/** The host facts the plan reads: each host's release (PostgreSQL's major version names its files). */
export type PlanFacts = ReadonlyMap<string, Pick<HostFacts, "release">>;

/** The CA files of the object stores, as the config names them (the stack's name only sets key prefixes, unused here). */
function caFilesOf(cfg: StackConfig): { backup?: string; media?: string } {
  return { backup: backupStore(cfg, "")?.caFile, media: mediaStore(cfg, "")?.caFile };
}

export function planFleet(cfg: StackConfig, topo: Topology, facts: PlanFacts): FleetPlan {
  const apps = topo.deployments.map((d): AppPlacement => {
    const staticCopyTo = staticCopyHostOf(d, topo);
    return {
      app: d.app.name,
      codeHosts: d.codeHosts.map((h) => h.name),
      migrator: migratorOf(d).name,
      upstreams: upstreamsOf(d.appHosts, d.app.port, topo),
      workers: d.workers.map((h) => h.name),
      ...(d.beat ? { beat: d.beat.name } : {}),
      ...(staticCopyTo ? { staticCopyTo: staticCopyTo.name } : {}),
    };
  });
  const cas = objectStoreCaHosts(topo, caFilesOf(cfg));
  return { hosts: topo.hosts.map((h) => planHost(h, cfg, topo, facts, apps, cas.get(h.name))), apps };
}

function planHost(host: HostPlan, cfg: StackConfig, topo: Topology, facts: PlanFacts, placements: readonly AppPlacement[], caFiles: string[] | undefined): HostServicesPlan {
  const on = (h: HostPlan | undefined) => h?.name === host.name;
  const pg = facts.get(host.name)?.release.postgresql;
  const rabbit = on(topo.broker) && cfg.broker.kind === "rabbitmq";
  return {
    host,
    roles: [...host.roles].sort(),
    services: servicesOn(host.roles, cfg).map((s) => s.name),
    firewall: { rules: FIREWALL_FILES.rules, unit: FIREWALL_FILES.unit, unitFile: unitFilePath(FIREWALL_FILES.unit) },
    ...(topo.logging ? {
      logging: {
        forwardConf: LOGGING_FILES.forwardConf, shipsTo: addressFrom(host, topo.logging), port: cfg.logging.port,
        ...(on(topo.logging) ? {
          server: { conf: LOGGING_FILES.serverConf, retention: LOGGING_FILES.retention, logDir: LOGGING_FILES.logDir, allowedSenders: logSenders(topo.hosts) },
        } : {}),
      },
    } : {}),
    ...databaseOn(host, cfg, topo, pg),
    ...(rabbit ? {
      rabbitmq: { conf: RABBITMQ_FILES.conf, unit: RABBITMQ_FILES.unit, listenAddresses: listenAddresses(host, topo.codeHosts), port: RABBITMQ_FILES.port },
    } : {}),
    ...(on(topo.cache) && cfg.cache.kind === "memcached" ? { memcached: { listenAddresses: listenAddresses(host, topo.codeHosts) } } : {}),
    redis: runsAppRedis(host.roles, cfg)
      ? topo.deployments.map((d) => ({ app: d.app.name, port: d.app.redisPort, listenAddresses: listenAddresses(host, d.codeHosts) }))
      : [],
    ...(on(topo.loadBalancer) ? {
      nginx: {
        defaultSite: { path: NGINX_FILES.defaultSite, content: NGINX_FILES.defaultSiteContent },
        ...(topo.deployments.length > 1 ? { defaultServer: NGINX_FILES.defaultServer } : {}),
        sites: placements.map((p) => ({ app: p.app, path: nginxSitePath(p.app), upstreams: p.upstreams, staticCopy: p.staticCopyTo !== undefined })),
      },
    } : {}),
    apps: topo.deployments.filter((d) => runsCodeOf(d, host)).map((d): HostApp => {
      const node = d.appHosts.some(on);
      const worker = d.workers.some(on);
      const beat = on(d.beat);
      const bindAddress = gunicornBindAddress(host, topo);
      return {
        app: d.app.name,
        migrates: on(migratorOf(d)),
        ...(node ? { gunicorn: { ...gunicornFiles(d.app), bindAddress, port: d.app.port, socketUnit: gunicornSocketName(d.app.name) } } : {}),
        ...(worker || beat ? { celery: { ...celeryFiles(d.app), worker, beat } } : {}),
      };
    }),
    staticCopies: placements.filter((p) => p.staticCopyTo === host.name).map((p) => p.app),
    ...(caFiles ? { objectStoreCa: { path: HOST_CA_FILE, files: caFiles } } : {}),
  };
}

/** The database server on this host, primary or replica; the primary listens for the apps' code hosts and the replicas. */
function databaseOn(host: HostPlan, cfg: StackConfig, topo: Topology, pg: string | undefined): { database?: HostDatabase } {
  const role = host.name === topo.db.name ? "primary" : host.roles.has("dbReplica") ? "replica" : undefined;
  if (!role) return {};
  const engine = cfg.database.engine;
  const loopback = engine === "postgresql" ? "localhost" : "127.0.0.1";
  // A replica always listens on its private address too (services/postgresql/dbReplica.ts).
  const clients = [...topo.deployments.flatMap((d) => d.codeHosts), ...topo.dbReplicas];
  return {
    database: {
      engine, role, port: cfg.database.port,
      listenAddresses: role === "primary" ? listenAddresses(host, clients, loopback) : [loopback, host.privateAddress],
      ...(engine === "postgresql" && pg ? { postgres: postgresFiles(pg) } : {}),
      ...(engine === "mariadb" ? { mariadbConf: MARIADB_CONF } : {}),
    },
  };
}
