/**
 * The stack's output contract: what other stacks may read with StackReference, and the
 * one function that builds it (`fleetOutputs`, called by index.ts). Names and shapes here
 * are a public interface; change them only additively, and say so in README ("Stack
 * outputs (for StackReference)").
 *
 * Pulumi keeps secrecy per top-level output: across StackReference an output is either
 * plain or secret as a whole, and so is everything a consumer derives from it. So plain
 * facts and credentials never share an output. The secret outputs are exactly
 * `databasePassword`, `brokerUrl`, `appSecrets`, `backupEncryptionKey` and, with a
 * Redis cache, `cacheUrl`; every other output is plain, and each plain part of a secret
 * output (host, port, vhost, database) is also in a plain one.
 *
 * Changed by issue 22: `apps.<name>` no longer holds `databasePassword` and `brokerUrl`
 * (they moved to `appSecrets.<name>`), so `apps` is plain; `broker` and `cache` are new;
 * `cacheUrl` is plain with memcached (it carries no password).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Input, Output } from "@pulumi/pulumi";
import { CACHE_REDIS_DB, cachePort, cacheUrl } from "./config/environment.ts";
import type { ObjectStore } from "./config/objectStore.ts";
import type { StackConfig } from "./config/schema.ts";
import type { Topology } from "./config/topology.ts";
import type { DjangoApp } from "./components/djangoApp.ts";

/** One host of the fleet. */
export interface HostOutput {
  /** Address used to reach it over SSH. */
  readonly address: string;
  /** Address other hosts use. */
  readonly privateAddress: string;
  /** Its roles. */
  readonly roles: readonly string[];
}

/** The database endpoint (the password is a separate secret output). */
export interface DatabaseOutput {
  readonly engine: string;
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
}

/** The Celery broker's endpoint (each app's account and URL are in `appSecrets`). */
export interface BrokerOutput {
  /** `rabbitmq` or `redis`. */
  readonly kind: "rabbitmq" | "redis";
  /** Its private address. */
  readonly host: string;
  /** 5672 (RabbitMQ) or 6379 (Redis). */
  readonly port: number;
}

/** The shared cache's endpoint (a Redis cache's password is only in `cacheUrl`). */
export interface CacheOutput {
  /** `memcached` or `redis`. */
  readonly kind: "memcached" | "redis";
  /** Its private address. */
  readonly host: string;
  /** 11211 (memcached) or 6379 (Redis). */
  readonly port: number;
  /** The Redis database it uses (1), or null with memcached. */
  readonly redisDb: number | null;
}

/** Where backups go and what is kept (never the credentials). */
export interface BackupOutput {
  /** `https://host[:port]` of the object store. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** Key prefix in the bucket. */
  readonly prefix: string;
  /** The tool that writes them: `pgbackrest` or `restic`. */
  readonly tool: string;
  /** systemd OnCalendar of the backup. */
  readonly schedule: string;
  /** Newest of each of the last N days, weeks, months. */
  readonly retention: { readonly daily: number; readonly weekly: number; readonly monthly: number };
}

/** One app of the stack (output `apps`, by app name): plain facts only, no credential. */
export interface AppOutput {
  /** The URL that serves it (through the load balancer when there is one). */
  readonly url: string;
  /** Private addresses of its app nodes, in upstream order. */
  readonly hosts: readonly string[];
  /** The port its gunicorn listens on, on each of them. */
  readonly port: number;
  /** Its database and login role on the fleet's database server (`database` has the host and port). */
  readonly database: { readonly name: string; readonly user: string };
  /** Its RabbitMQ vhost, also its RabbitMQ user (both are its name), or null with a Redis broker (`broker` has the host and port). */
  readonly brokerVhost: string | null;
  /** Its Redis database number, or null with RabbitMQ. */
  readonly brokerRedisDb: number | null;
  /** The commit of it that is deployed. */
  readonly deployedCommit: string;
}

/** One app's credentials (output `appSecrets`, secret as a whole, by app name). */
export interface AppSecretsOutput {
  /** Its database role's password. */
  readonly databasePassword: string;
  /** Its Celery broker URL, with its account's password. */
  readonly brokerUrl: string;
  /** The key of its uploads' backups (restic). @default absent: its uploads are not backed up by us */
  readonly mediaBackupKey?: string;
}

/**
 * Every stack output, by export name. With several apps, the one-app outputs (`siteUrl`,
 * `database`, `databasePassword`, `brokerUrl`, `deployedCommit`, `appHosts`) describe the
 * first app in the config, and `apps` and `appSecrets` hold every app.
 */
export interface FleetOutputs {
  /** `siteUrl`: the URL that serves the (first) app (through the load balancer when there is one). */
  readonly siteUrl: string;
  /** `apps` (plain): every app by name: URL, hosts, port, database name and user, broker vhost or Redis database, deployed commit. Before issue 22 it also held each app's `databasePassword` and `brokerUrl`, which made all of it secret; they are in `appSecrets` now. */
  readonly apps: Readonly<Record<string, AppOutput>>;
  /** `appSecrets` (secret): every app's credentials by name: `{databasePassword, brokerUrl}`, and `mediaBackupKey` where its uploads are backed up. */
  readonly appSecrets: Output<Readonly<Record<string, AppSecretsOutput>>>;
  /** `hostAddresses`: every host by name. */
  readonly hosts: Readonly<Record<string, HostOutput>>;
  /** `appHosts`: private addresses of the app nodes, in upstream order. */
  readonly appHosts: readonly string[];
  /** `database`: the database endpoint. */
  readonly database: DatabaseOutput;
  /** `databaseReplicas`: addresses of the streaming replicas (read-only), may be empty. */
  readonly databaseReplicas: readonly string[];
  /** `databasePassword` (secret): the (first) app role's password. */
  readonly databasePassword: Output<string>;
  /** `broker`: the Celery broker's kind, host and port. */
  readonly broker: BrokerOutput;
  /** `brokerUrl` (secret): the (first) app's Celery broker URL with credentials. */
  readonly brokerUrl: Output<string>;
  /** `loggingEndpoint`: `address:port` of the central log server, or null. */
  readonly loggingEndpoint: string | null;
  /** `cache`: the shared cache's kind, host, port and Redis database, or null without a cache. */
  readonly cache: CacheOutput | null;
  /** `cacheUrl`: the shared cache's URL (no app's key prefix), or null. Secret with Redis (it holds the password); plain with memcached (nothing in it is secret). */
  readonly cacheUrl: Output<string> | string | null;
  /** `deployedCommit`: the commit of the (first) app that is deployed. */
  readonly deployedCommit: string;
  /** `backup`: the backup target, schedule and retention, or null without backups. */
  readonly backup: BackupOutput | null;
  /** `backupEncryptionKey` (secret): the repository's encryption key; without it no backup can be read. Null without backups. */
  readonly backupEncryptionKey: Output<string> | null;
  /** `lastRestoreDrill`: the restore drill's last result as read by the last refresh (`ok`, `finishedAt`, `backupAgeSeconds`, `tables`), or null. */
  readonly lastRestoreDrill: Output<unknown> | null;
}

/** What the outputs are built from: the program's config, topology and components. */
export interface OutputSources {
  readonly config: StackConfig;
  readonly topology: Topology;
  /** Every app in config order (the first is the one the one-app outputs describe). */
  readonly apps: readonly DjangoApp[];
  /** The load balancer, if there is one: it serves each app at `urls[name]` (else an app is served at its `directUrl`). */
  readonly loadBalancer: { readonly urls: Readonly<Record<string, string>> } | undefined;
  /** The database primary. */
  readonly database: { readonly address: string; readonly port: number };
  /** The Celery broker. */
  readonly broker: { readonly address: string; readonly port: number };
  /** The database replicas. */
  readonly replicas: readonly { readonly address: string }[];
  /** The log server (`endpoint` is its `address:port`), if there is one. */
  readonly logging: { readonly endpoint: string } | undefined;
  /** The backup target, if backups are on. */
  readonly backupTarget: ObjectStore | undefined;
  /** The backup repository's encryption key (secret), if backups are on. */
  readonly backupKey: Input<string> | undefined;
  /** The restore drill's last result, if there is a drill. */
  readonly lastRestoreDrill: Output<unknown> | undefined;
}

/** The stack outputs. Pure, but for wrapping Outputs. */
export function fleetOutputs(s: OutputSources): FleetOutputs {
  const { config: cfg, topology: topo } = s;
  const served = s.apps.map((app) => ({ app, url: s.loadBalancer ? s.loadBalancer.urls[app.name]! : app.directUrl }));
  const main = served[0]!;
  const mainPlan = main.app.deployment.app;
  const cacheHost = cfg.cache.kind !== "none" ? topo.cache : undefined;
  return {
    siteUrl: main.url,
    apps: Object.fromEntries(served.map(({ app, url }) => [app.name, appOutput(cfg, app, url)])),
    appSecrets: pulumi.secret(pulumi.output(Object.fromEntries(served.map(({ app }) => [app.name, {
      databasePassword: app.databasePassword, brokerUrl: app.brokerUrl,
      ...(app.mediaBackupKey ? { mediaBackupKey: app.mediaBackupKey } : {}),
    }])))) as Output<Record<string, AppSecretsOutput>>,
    hosts: Object.fromEntries(topo.hosts.map((h) => [h.name, { address: h.address, privateAddress: h.privateAddress, roles: [...h.roles] }])),
    appHosts: main.app.deployment.appHosts.map((h) => h.privateAddress),
    database: { engine: cfg.database.engine, host: s.database.address, port: s.database.port, name: mainPlan.database.name, user: mainPlan.database.user },
    databaseReplicas: s.replicas.map((r) => r.address),
    databasePassword: main.app.databasePassword,
    // With Redis, each app has its own server: the first app's port, as the one-app outputs say.
    broker: { kind: cfg.broker.kind, host: s.broker.address, port: cfg.broker.kind === "redis" ? mainPlan.redisPort : s.broker.port },
    brokerUrl: main.app.brokerUrl,
    loggingEndpoint: s.logging?.endpoint ?? null,
    cache: cacheHost && cfg.cache.kind !== "none" ? {
      kind: cfg.cache.kind, host: cacheHost.privateAddress, port: cachePort(cfg, mainPlan), redisDb: cfg.cache.kind === "redis" ? CACHE_REDIS_DB : null,
    } : null,
    cacheUrl: !cacheHost ? null
      : cfg.cache.kind === "redis"
        ? pulumi.secret(pulumi.output(main.app.redisPassword ?? "").apply((pw) => cacheUrl(cfg, cacheHost.privateAddress, pw, undefined, mainPlan.redisPort)!))
        : cacheUrl(cfg, cacheHost.privateAddress, "")!,
    deployedCommit: main.app.commit,
    backup: s.backupTarget ? {
      endpoint: s.backupTarget.endpoint, bucket: s.backupTarget.bucket, region: s.backupTarget.region, prefix: s.backupTarget.prefix,
      tool: cfg.database.engine === "postgresql" ? "pgbackrest" : "restic", schedule: cfg.backup.schedule, retention: cfg.backup.retention,
    } : null,
    backupEncryptionKey: s.backupKey !== undefined ? pulumi.secret(s.backupKey) : null,
    lastRestoreDrill: s.lastRestoreDrill ?? null,
  };
}

/** An app's entry in `apps`, served at `url`: no credential in it. */
function appOutput(cfg: StackConfig, app: DjangoApp, url: string): AppOutput {
  const plan = app.deployment.app;
  return {
    url,
    hosts: app.deployment.appHosts.map((h) => h.privateAddress),
    port: plan.port,
    database: { name: plan.database.name, user: plan.database.user },
    brokerVhost: cfg.broker.kind === "rabbitmq" ? plan.name : null,
    brokerRedisDb: cfg.broker.kind === "redis" ? plan.redisDb : null,
    deployedCommit: app.commit,
  };
}
