/**
 * The apps of a stack, resolved: `app` (one app) or `apps` (several), each with its port,
 * host names, database, Celery and broker settings filled in. Pure. The rules between
 * apps (names, host names, databases, ports that must differ) are checked here; the
 * rules between apps and hosts are checked in topology.ts.
 */
import { reservedDatabaseUser } from "./reservedNames.ts";
import type { AppConfig, StackConfig } from "./schema.ts";

/** One app, with every per-app default resolved. */
export interface AppPlan extends Omit<AppConfig, "port" | "database" | "celery" | "broker" | "domains" | "mediaLocation"> {
  /** Its config key, for errors: `app` or `apps[i]`. */
  readonly key: string;
  /** Its position in `apps` (0 for `app`). */
  readonly index: number;
  /** The port gunicorn listens on, the same on every host that runs it. */
  readonly port: number;
  /** Whether `port` was set in the config (else it is the default). */
  readonly portSet: boolean;
  /** nginx server_name: its host names separated by spaces, or `_` (any name: one app only). */
  readonly serverName: string;
  /** The config key its host names come from, for errors: `<key>.domains`, or `loadBalancer.serverName` when it has none of its own. */
  readonly namesKey: string;
  /** Its database and login role. */
  readonly database: { readonly name: string; readonly user: string };
  /** Its Celery workers and beat. */
  readonly celery: { readonly concurrency: number; readonly queues: readonly string[]; readonly beat: boolean };
  /** Redis database number of its Celery queue (broker.kind redis), in its own Redis. */
  readonly redisDb: number;
  /** The port of its own Redis server (redis-server@<name>), where Redis is the broker or cache. */
  readonly redisPort: number;
  /** Whether `redisPort` was set in the config. */
  readonly redisPortSet: boolean;
  /** Key prefix of its uploads in the media bucket. */
  readonly mediaLocation: string;
}

/** FNV-1a (32 bits) of a name's UTF-8 bytes. */
function fnv1a(name: string): number {
  let h = 0x811c9dc5;
  for (const ch of Buffer.from(name, "utf8")) {
    h ^= ch;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The default port of an app in `apps`: 8100-8999 from its name (FNV-1a), so no other app moves it. */
export function derivedPort(name: string): number {
  return 8100 + (fnv1a(name) % 900);
}

/** The default port of the own Redis server of an app in `apps`: 6380-6999 from its name, so no other app moves it. */
export function derivedRedisPort(name: string): number {
  return 6380 + (fnv1a(name) % 620);
}

/** The config's apps, in order (`app` is one app), without checks: for code that runs after them. */
export function configApps<A = AppConfig>(cfg: { readonly app?: A | undefined; readonly apps?: readonly A[] | undefined }): readonly A[] {
  return cfg.apps ?? (cfg.app ? [cfg.app] : []);
}

/** Resolves every app's defaults; `problems` collects what is wrong between apps. */
export function resolveApps(cfg: StackConfig, problems: string[]): AppPlan[] {
  const list = configApps(cfg);
  const shorthand = !cfg.apps;
  const several = list.length > 1;
  const plans = list.map((a, index): AppPlan => {
    const key = shorthand ? "app" : `apps[${index}]`;
    const { port, database, celery, broker, domains, mediaLocation, redisPort, ...rest } = a;
    const serverName = domains?.join(" ") ?? (several ? "" : cfg.loadBalancer.serverName);
    return {
      ...rest,
      key, index,
      port: port ?? (shorthand ? 8000 : derivedPort(a.name)),
      portSet: port !== undefined,
      serverName,
      namesKey: domains ? `${key}.domains` : "loadBalancer.serverName",
      database: {
        name: database?.name ?? (several ? undefined : cfg.database.name) ?? a.name,
        user: database?.user ?? (several ? undefined : cfg.database.user) ?? a.name,
      },
      celery: {
        concurrency: celery?.concurrency ?? cfg.celery.concurrency,
        queues: celery?.queues ?? cfg.celery.queues,
        beat: celery?.beat ?? true,
      },
      redisDb: broker?.redisDb ?? 0,
      redisPort: redisPort ?? (shorthand ? 6379 : derivedRedisPort(a.name)),
      redisPortSet: redisPort !== undefined,
      mediaLocation: mediaLocation ?? (shorthand ? cfg.media.location : `${cfg.media.location}/${a.name}`),
    };
  });

  // Later apps are named in errors: they are the ones just added.
  const firstBy = <T>(pick: (p: AppPlan) => T[], what: (p: AppPlan, v: T, other: AppPlan) => string) => {
    const seen = new Map<T, AppPlan>();
    for (const p of plans) {
      for (const v of pick(p)) {
        const other = seen.get(v);
        if (other && other !== p) problems.push(what(p, v, other));
        else seen.set(v, p);
      }
    }
  };
  if (several && cfg.database.engine === "mariadb") {
    problems.push(`apps: ${plans.length} apps with database.engine "mariadb"; several apps share a PostgreSQL server only, for now (MariaDB's backups and replicas carry one database). Fix: use database.engine "postgresql", or one stack per app`);
  }
  for (const p of plans) {
    // A role set in the config is checked by the schema; this is the one named after the app.
    if (reservedDatabaseUser(p.database.user) && p.database.user === p.name) {
      problems.push(`${p.key}.name: "${p.name}" would also name the app's database role, which is a superuser's, django-fleet's own or reserved by the database. Fix: \`npm run pulumi -- config set --path '${p.key}.database.user' <name>\`, or give the app another name`);
    }
  }
  firstBy((p) => [p.name], (p, v, o) => `${p.key}.name: "${v}" is also the name of ${o.key}; an app's name is its user, /srv/<name> and its units. Fix: give every app its own name`);
  if (several) {
    for (const p of plans) {
      if (!p.serverName) problems.push(`${p.key}.domains: missing; with several apps, nginx picks the app by host name. Fix: \`npm run pulumi -- config set --path '${p.key}.domains[0]' shop.example\``);
    }
    if (cfg.loadBalancer.serverName !== "_") {
      problems.push(`loadBalancer.serverName: names one app's host names, but the stack has ${plans.length} apps. Fix: give each app its own apps[i].domains and \`npm run pulumi -- config rm --path loadBalancer.serverName\``);
    }
    for (const k of ["name", "user"] as const) {
      if (cfg.database[k] !== undefined) problems.push(`database.${k}: names one app's database${k === "name" ? "" : " role"}, but the stack has ${plans.length} apps. Fix: move it to apps[i].database.${k} and \`npm run pulumi -- config rm --path database.${k}\``);
    }
  }
  firstBy((p) => p.serverName.split(" ").filter((n) => n && n !== "_"), (p, v, o) => `${p.key}.domains: "${v}" is also a host name of ${o.key} (${o.name}); a host name leads to one app. Fix: remove it from one of them`);
  if (cfg.media.storage === "s3") {
    firstBy((p) => [p.mediaLocation], (p, v, o) => `${p.key}.mediaLocation: "${v}" is also where ${o.key} (${o.name}) keeps its uploads. Fix: give each app its own prefix`);
  }
  firstBy((p) => [p.database.name], (p, v, o) => `${p.key}.database.name: "${v}" is also the database of ${o.key} (${o.name}); each app has its own database. Fix: \`npm run pulumi -- config set --path '${p.key}.database.name' <name>\``);
  firstBy((p) => [p.database.user], (p, v, o) => `${p.key}.database.user: "${v}" is also the database role of ${o.key} (${o.name}); each app has its own role. Fix: \`npm run pulumi -- config set --path '${p.key}.database.user' <name>\``);
  if (cfg.broker.kind === "redis") {
    // The cache uses database 1 of the app's Redis when the broker's host is also the cache's.
    const shared = cfg.cache.kind === "redis" && cfg.hosts.some((h) => h.roles.includes("cache") && h.roles.includes("broker"));
    for (const p of plans) {
      if (shared && p.redisDb === 1) problems.push(`${p.key}.broker.redisDb: 1 holds the app's Redis cache. Fix: \`npm run pulumi -- config set --path '${p.key}.broker.redisDb' 2\` (any of 0, 2-15)`);
    }
  }
  return plans;
}
