/**
 * The plan of one host, as data: the services that run there, where each listens, the
 * files of ours it gets, and what it does for each app (code, gunicorn, Celery, the
 * migration). Made by plan/fleetPlan.ts; read by the tests and the benchmark's peers.
 */
import type { Role } from "../config/schema.ts";
import type { HostPlan } from "../config/topology.ts";
import type { CeleryFiles, GunicornFiles, PostgresFiles } from "./files.ts";
import type { Upstream } from "./listen.ts";

/** The firewall every host gets. */
export interface HostFirewall {
  /** The nftables rules file. */
  readonly rules: string;
  /** The unit that loads it. */
  readonly unit: string;
  /** That unit's file. */
  readonly unitFile: string;
}

/** What a host does for central logging (with a logging host in the fleet). */
export interface HostLogging {
  /** Its forwarding config. */
  readonly forwardConf: string;
  /** The address it ships to: loopback on the logging host, else its private address. */
  readonly shipsTo: string;
  /** The port it ships to (`logging.port`). */
  readonly port: number;
  /** On the logging host: what receives and keeps the lines. @default none: this host only ships */
  readonly server?: {
    readonly conf: string;
    readonly retention: string;
    readonly logDir: string;
    /** The addresses it accepts lines from. */
    readonly allowedSenders: readonly string[];
  };
}

/** The database server on the primary's host or a replica's. */
export interface HostDatabase {
  /** `database.engine`. */
  readonly engine: "postgresql" | "mariadb";
  /** The primary, or a streaming/binlog replica. */
  readonly role: "primary" | "replica";
  /** `database.port`. */
  readonly port: number;
  /** Where it listens: loopback, and the private address when a client or replica is elsewhere. */
  readonly listenAddresses: readonly string[];
  /** PostgreSQL's cluster files (its major version is the host's release's). @default none: MariaDB */
  readonly postgres?: PostgresFiles;
  /** MariaDB's config file. @default none: PostgreSQL */
  readonly mariadbConf?: string;
}

/** RabbitMQ on the broker host (broker.kind "rabbitmq"). */
export interface HostRabbitmq {
  /** Its config file. */
  readonly conf: string;
  /** Its unit. */
  readonly unit: string;
  /** Its AMQP listeners' addresses. */
  readonly listenAddresses: readonly string[];
  /** Its AMQP port. */
  readonly port: number;
}

/** One app's own Redis server on this host (broker or cache kind "redis"). */
export interface HostRedis {
  readonly app: string;
  /** The app's `redisPort`. */
  readonly port: number;
  /** Loopback, and the private address when one of the app's code hosts is elsewhere. */
  readonly listenAddresses: readonly string[];
}

/** One app's site on the load balancer. */
export interface HostSite {
  readonly app: string;
  /** The site file. */
  readonly path: string;
  /** The app nodes nginx proxies to, in order. */
  readonly upstreams: readonly Upstream[];
  /** The load balancer runs none of the app's code: it serves a copy of the static files, and media from the nodes. */
  readonly staticCopy: boolean;
}

/** nginx on the load balancer. */
export interface HostNginx {
  /** Debian's default site, and what it holds while ours serve. */
  readonly defaultSite: { readonly path: string; readonly content: string };
  /** The server answering names no app serves: with two apps or more. @default none */
  readonly defaultServer?: string;
  /** One site per app, in config order. */
  readonly sites: readonly HostSite[];
}

/** An app node's gunicorn. */
export interface HostGunicorn extends GunicornFiles {
  /** Where it binds: loopback beside the load balancer, else the private address. */
  readonly bindAddress: string;
  /** The app's port. */
  readonly port: number;
  /** Its socket unit (gunicorn serves on it). */
  readonly socketUnit: string;
}

/** An app's Celery on a worker or beat host. */
export interface HostCelery extends CeleryFiles {
  /** Its workers run here. */
  readonly worker: boolean;
  /** Its beat runs here (one host in the fleet). */
  readonly beat: boolean;
}

/** What a host does for one app whose code runs on it. */
export interface HostApp {
  readonly app: string;
  /** This host runs the app's migrations (once per release). */
  readonly migrates: boolean;
  /** An app node: gunicorn. @default none */
  readonly gunicorn?: HostGunicorn;
  /** Celery workers or beat. @default none */
  readonly celery?: HostCelery;
}

/** The plan of one host. */
export interface HostServicesPlan {
  /** The host (name, addresses, roles). */
  readonly host: HostPlan;
  /** Its roles, sorted. */
  readonly roles: readonly Role[];
  /** The services that run on it (services/index.ts: their folders' names), in the firewall's order. */
  readonly services: readonly string[];
  /** Its firewall. */
  readonly firewall: HostFirewall;
  /** Its part in central logging. @default none: no logging host */
  readonly logging?: HostLogging;
  /** A database server. @default none */
  readonly database?: HostDatabase;
  /** RabbitMQ. @default none */
  readonly rabbitmq?: HostRabbitmq;
  /** The shared memcached, and where it listens. @default none */
  readonly memcached?: { readonly listenAddresses: readonly string[] };
  /** The apps' own Redis servers. Empty when it runs none. */
  readonly redis: readonly HostRedis[];
  /** nginx, on the load balancer. @default none */
  readonly nginx?: HostNginx;
  /** Each app whose code runs here, in config order. Empty on a host that runs none. */
  readonly apps: readonly HostApp[];
  /** The static-file copies it receives (a load balancer that runs none of those apps' code): the apps' names. */
  readonly staticCopies: readonly string[];
  /** The object stores' CA bundle: where it goes and the CA files it joins. @default none */
  readonly objectStoreCa?: { readonly path: string; readonly files: readonly string[] };
}
