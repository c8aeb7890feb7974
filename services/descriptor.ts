/**
 * What every service folder states about its service, as data: where it runs, the
 * packages it needs, the log files it writes and the ports it opens. config/packages.ts,
 * config/firewall.ts and config/serviceLogs.ts combine the descriptors of services/index.ts
 * instead of each knowing every service. Pure: nothing here touches a host.
 */
import type { AppConfig, Role, StackConfig } from "../config/schema.ts";
import type { HostPlan, Topology } from "../config/topology.ts";

/**
 * The part of the stack config a descriptor may read to tell whether its service runs
 * on a host. Only `broker`, `database` and `cache` are always there: the log and
 * package lists are also asked for with partial configs (tests, the benchmark's peers).
 */
export type ServiceConfig = Pick<StackConfig, "broker" | "database" | "cache"> & {
  /** The one-app shorthand. */
  readonly app?: Pick<AppConfig, "packages">;
  /** Several apps. */
  readonly apps?: ReadonlyArray<Pick<AppConfig, "packages">>;
  /** Backups: only whether there is a target. */
  readonly backup?: Pick<StackConfig["backup"], "target">;
  /** Where uploads live. */
  readonly media?: Pick<StackConfig["media"], "storage">;
  /** The load balancer's TLS mode. */
  readonly loadBalancer?: Pick<StackConfig["loadBalancer"], "tls">;
};

/** One log file (or glob of files) a service writes, and the program it is filed under. */
export interface ServiceLog {
  /**
   * The program name the logging host files the lines under
   * (`/var/log/fleet/<host>/<tag>.log`), e.g. `"postgresql"` or `"nginx-access"`.
   */
  readonly tag: string;
  /** Absolute path of the file; a `*` in the file name matches several (rsyslog imfile globs). */
  readonly file: string;
}

/** One opening: a TCP port, from these source addresses (empty: from anywhere). */
export interface Opening {
  /** The TCP port. */
  readonly port: number;
  /** Source addresses; empty means from anywhere. */
  readonly from: readonly string[];
  /** Why it is open, written next to the rule. */
  readonly why: string;
}

/** An opening as a descriptor states it. */
export interface OpeningRule extends Opening {
  /** Open to anywhere (`from` is empty on purpose): http and https on the load balancer. */
  readonly public?: boolean;
}

/** What a descriptor's `openings` is given: the host, the fleet and the config. */
export interface FirewallContext {
  /** The host whose firewall is being written. */
  readonly host: HostPlan;
  /** The whole fleet. */
  readonly topo: Topology;
  /** The stack config. */
  readonly cfg: StackConfig;
  /**
   * The private addresses of `hosts` other than this one, sorted and deduplicated: traffic
   * a host sends to itself arrives on loopback, which is always accepted.
   */
  from(hosts: readonly HostPlan[]): string[];
}

/** A service's facts. */
export interface ServiceDescriptor {
  /** The service's folder under services/. */
  readonly name: string;
  /** Whether the service runs on a host with these roles under this config. */
  runsOn(roles: ReadonlySet<Role>, cfg: ServiceConfig): boolean;
  /** Debian packages it needs where it runs. */
  readonly packages: readonly string[];
  /** Packages that depend on the config (the app's own list, a database driver's build deps). */
  morePackages?(cfg: ServiceConfig): readonly string[];
  /**
   * Log files it writes where it runs, for rsyslog to follow. Services that log to the
   * journal list none: the journal is shipped already.
   */
  readonly logs: readonly ServiceLog[];
  /**
   * Ports it opens where it runs. A private opening with no source address, or port 0 (a
   * port another role on the host opens already), is left out by config/firewall.ts.
   */
  openings?(ctx: FirewallContext): readonly OpeningRule[];
}

/** A database engine: one descriptor behind one interface, PostgreSQL or MariaDB. */
export interface DatabaseEngine extends ServiceDescriptor {
  /** The value of `database.engine` that selects it. */
  readonly engine: StackConfig["database"]["engine"];
  /** What a host running the app's code needs to build the engine's Python driver. */
  readonly driverBuildPackages: readonly string[];
}

/** Whether a host runs the app's code: the app and its workers (a load balancer gets a copy of the static files only). */
export function runsCode(roles: ReadonlySet<Role>): boolean {
  return roles.has("app") || roles.has("worker") || roles.has("beat");
}

/** The descriptor of a database engine: runs on the primary and the replicas, opens its port to them and to the code. */
export function databaseEngine(facts: Omit<DatabaseEngine, "runsOn" | "openings">): DatabaseEngine {
  const e = facts.engine;
  return {
    ...facts,
    runsOn: (roles, cfg) => (roles.has("db") || roles.has("dbReplica")) && cfg.database.engine === e,
    openings: ({ host, topo, cfg, from }) => [
      ...(host.roles.has("db") ? [{ port: cfg.database.port, from: from([...topo.codeHosts, ...topo.dbReplicas]), why: `${e}, from app/worker hosts and replicas` }] : []),
      ...(host.roles.has("dbReplica") ? [{ port: cfg.database.port, from: from(topo.codeHosts), why: `${e} (read-only), from app/worker hosts` }] : []),
    ],
  };
}
