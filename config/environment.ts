/**
 * The app's environment variables (what goes into its 0600 env file). Pure.
 */
import { isIP } from "node:net";
import type { StackConfig } from "./schema.ts";
import { appPaths } from "../components/paths.ts";
import { HOST_CA_FILE, type ObjectStore } from "./objectStore.ts";
import { resolveApps, type AppPlan } from "./apps.ts";

/** The stack's only app (unit tests and one-app callers); several apps pass theirs. */
function soleApp(cfg: StackConfig): AppPlan {
  const app = resolveApps(cfg, [])[0];
  if (!app) throw new Error("the stack config has no app");
  return app;
}

export interface EnvironmentInputs {
  readonly secretKey: string;
  readonly dbPassword: string;
  readonly brokerPassword: string;
  /** How this host reaches the database and the broker. */
  readonly dbHost: string;
  readonly brokerHost: string;
  readonly dbName: string;
  readonly dbUser: string;
  /** How this host reaches the cache, and the cache's password (the app's own Redis password); unset without a cache. */
  readonly cacheHost?: string;
  readonly cachePassword?: string;
  /** This host's own addresses (health checks and direct requests use them). @default [] */
  readonly ownAddresses?: readonly string[];
  /** The load balancer's addresses: a browser that reaches the site by address sends one of them as its Host. @default [] */
  readonly loadBalancerAddresses?: readonly string[];
  /** The object store for uploads (media.storage "s3"). @default none: local MEDIA_ROOT */
  readonly media?: ObjectStore;
}

/** django-storages' S3 settings, under the app's names for them. */
export function mediaEnvironment(cfg: StackConfig, store: ObjectStore, app: AppPlan = soleApp(cfg)): Record<string, string> {
  const n = app.envNames;
  return {
    [n.mediaStorage]: "s3",
    [n.mediaBucket]: store.bucket,
    [n.mediaEndpoint]: store.endpoint,
    [n.mediaRegion]: store.region,
    [n.mediaAddressingStyle]: store.pathStyle ? "path" : "virtual",
    [n.mediaLocation]: app.mediaLocation,
    ...(cfg.media.customDomain ? { [n.mediaCustomDomain]: cfg.media.customDomain } : {}),
    ...(store.caFile ? { [n.mediaCaBundle]: HOST_CA_FILE } : {}),
    [n.mediaAccessKeyId]: store.accessKeyId,
    [n.mediaSecretAccessKey]: store.secretAccessKey,
  };
}

/**
 * ALLOWED_HOSTS: the names nginx serves the app under plus the addresses given (the host's
 * own and the load balancer's) and loopback, so health checks that reach a node directly
 * are answered too. "*" only when nginx answers any name ("_") and `anyHost` asks for it in
 * so many words: with "*" Django builds absolute links (password resets) from whatever Host
 * a request claims. Joined with app.listSeparator (",": django-environ's list format).
 */
export function allowedHosts(serverName: string, own: readonly string[], separator: string, anyHost = false): string {
  if (serverName.split(/\s+/).includes("_") && anyHost) return "*";
  const names = [...serverName.split(/\s+/).filter((n) => n && n !== "_"), ...own, "localhost", "127.0.0.1"]
    // nginx's `*.shop.example` is Django's `.shop.example`; Django compares IPv6 hosts in brackets.
    .map((n) => n.startsWith("*.") ? n.slice(1) : isIP(n) === 6 ? `[${n}]` : n);
  return [...new Set(names)].join(separator);
}

/** The cache's port: memcached 11211 (one server for all apps), Redis the app's own server's. */
export function cachePort(cfg: StackConfig, app: AppPlan = soleApp(cfg)): number {
  return cfg.cache.kind === "memcached" ? 11211 : app.redisPort;
}

/**
 * Whether a host runs the apps' Redis servers (one per app, redis-server@<app>): the
 * broker's host with a Redis broker, the cache's with a Redis cache. Where both are on one
 * host, an app's one server holds its queues and its cache (database 1).
 */
export function runsAppRedis(roles: ReadonlySet<string>, cfg: Pick<StackConfig, "broker" | "cache">): boolean {
  return (roles.has("broker") && cfg.broker.kind === "redis") || (roles.has("cache") && cfg.cache.kind === "redis");
}

/** The Redis database a Redis cache uses in its app's server (the broker's queues use the app's `redisDb`, 0 by default). */
export const CACHE_REDIS_DB = 1;

/**
 * The cache's URL. memcached is shared, so `keyPrefix` (django-environ's `?key_prefix=`)
 * keeps apps' keys apart; a Redis cache is the app's own server (`port`), and keeps the
 * prefix too.
 */
export function cacheUrl(cfg: StackConfig, host: string, password: string, keyPrefix?: string, port = 6379): string | undefined {
  const q = keyPrefix ? `?key_prefix=${encodeURIComponent(keyPrefix)}` : "";
  if (cfg.cache.kind === "memcached") return `memcached://${host}:11211${q}`;
  if (cfg.cache.kind === "redis") return `redis://:${encodeURIComponent(password)}@${host}:${port}/${CACHE_REDIS_DB}${q}`;
  return undefined;
}

export function databaseUrl(cfg: StackConfig, i: EnvironmentInputs): string {
  const u = encodeURIComponent;
  const scheme = cfg.database.engine === "mariadb" ? "mysql" : "postgres";
  return `${scheme}://${u(i.dbUser)}:${u(i.dbPassword)}@${i.dbHost}:${cfg.database.port}/${u(i.dbName)}`;
}

/** The app's Celery broker URL: its own RabbitMQ vhost and user, or its own Redis server. */
export function brokerUrl(cfg: StackConfig, password: string, host: string, app: AppPlan = soleApp(cfg)): string {
  const u = encodeURIComponent;
  return cfg.broker.kind === "rabbitmq"
    ? `amqp://${u(app.name)}:${u(password)}@${host}:5672/${u(app.name)}`
    : `redis://:${u(password)}@${host}:${app.redisPort}/${app.redisDb}`;
}

export function appEnvironment(cfg: StackConfig, i: EnvironmentInputs, app: AppPlan = soleApp(cfg)): Record<string, string> {
  const n = app.envNames;
  const p = appPaths(app.name);
  return {
    DJANGO_SETTINGS_MODULE: app.settingsModule,
    [n.allowedHosts]: allowedHosts(app.serverName, [...i.ownAddresses ?? [], ...i.loadBalancerAddresses ?? []], app.listSeparator, app.allowAnyHost),
    [n.staticRoot]: p.static,
    [n.mediaRoot]: p.media,
    // User-supplied values win over the defaults above, but not over credentials below.
    ...app.env,
    [n.secretKey]: i.secretKey,
    [n.databaseUrl]: databaseUrl(cfg, i),
    [n.brokerUrl]: brokerUrl(cfg, i.brokerPassword, i.brokerHost, app),
    ...(i.cacheHost !== undefined && cfg.cache.kind !== "none"
      ? { [n.cacheUrl]: cacheUrl(cfg, i.cacheHost, i.cachePassword ?? "", app.name, app.redisPort)! } : {}),
    ...(i.media ? mediaEnvironment(cfg, i.media, app) : {}),
  };
}
