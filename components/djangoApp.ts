/**
 * DjangoApp: everything one app owns, in one place: its secrets, its database and role
 * (on the fleet's database server), its broker account, its code and env file on every
 * host that runs it, the migration, its gunicorn nodes and Celery units, and the backup
 * of its uploads. The load balancer gets its virtual host from `site`, and, when it runs
 * none of the app's code, only a copy of its collected static files. Adding or removing
 * an app adds or removes this component and nothing of another app.
 */
import * as pulumi from "@pulumi/pulumi";
import { addressFrom, type AppDeployment, type Topology } from "../config/topology.ts";
import type { StackConfig } from "../config/schema.ts";
import { appEnvironment, brokerUrl } from "../config/environment.ts";
import { appRedis } from "../services/redis/redisServer.ts";
import type { ObjectStore } from "../config/objectStore.ts";
import type { PythonProject } from "../config/pythonProject.ts";
import { script } from "../lib/shell.ts";
import { RandomSecret } from "../providers/randomSecret.ts";
import { StaticCopy } from "../providers/staticCopy.ts";
import { lbStaticPaths } from "../lib/staticCopy.ts";
import { servedFolders } from "../lib/djangoSettings.ts";
import { renderEnvFile } from "../services/app/envFile.ts";
import { AppNode } from "../services/app/appNode.ts";
import { AppRelease, manageCommand } from "../services/app/appRelease.ts";
import type { Broker } from "../services/rabbitmq/broker.ts";
import { CeleryWorker } from "../services/celery/celeryWorker.ts";
import type { AppDatabase } from "../services/postgresql/dbServer.ts";
import type { Host } from "./host.ts";
import type { LoadBalancerSite } from "../services/nginx/loadBalancer.ts";
import { MediaBackup } from "../services/restic/mediaBackup.ts";
import { appPaths } from "./paths.ts";
import { gunicornBindAddress, listenAddresses } from "../plan/listen.ts";
import { migratorOf, staticCopyHostOf } from "../plan/placement.ts";

/** The database server seam: each engine's server makes an app's database its own way. */
export interface DatabaseServer {
  addDatabase(app: string, db: AppDatabase, password: pulumi.Input<string>, first: boolean): pulumi.Resource;
}

/** The fleet's shared services an app uses. */
export interface SharedServices {
  readonly db: DatabaseServer;
  readonly broker: Broker;
  /** What must run before the app's code starts: the shared memcached, if any. */
  readonly cacheReady: pulumi.Resource[];
  /** The hosts that run the apps' own Redis servers (broker, cache), each with what those servers wait for. */
  readonly redisHosts: ReadonlyMap<string, pulumi.Resource>;
  /** Uploads in an object store (media.storage "s3"). */
  readonly media: ObjectStore | undefined;
  /**
   * Backups: the target, and the database backups' key (uploads on a single app host are
   * backed up with a key of their own; a repository once keyed with this one is re-keyed).
   */
  readonly backup: { readonly store: ObjectStore; readonly databaseKey: pulumi.Input<string> } | undefined;
}

export interface DjangoAppArgs {
  /** The app and where it runs. */
  readonly deployment: AppDeployment;
  readonly config: StackConfig;
  readonly topology: Topology;
  /** The Host component of each host, by name. */
  readonly hosts: ReadonlyMap<string, Host>;
  /** The commit to deploy (resolved from the app's ref). */
  readonly commit: string;
  /** How the project installs its dependencies (read from the repository at `commit`). */
  readonly project: PythonProject;
  readonly shared: SharedServices;
}

export class DjangoApp extends pulumi.ComponentResource {
  /** Its virtual host on the load balancer (none without one). */
  public readonly site: LoadBalancerSite | undefined;
  /** What the load balancer waits for: the static files copied (or collected) there, the nodes serving. */
  public readonly siteReady: pulumi.Resource[];
  /** Where a node serves it directly (the first app host), for a fleet without a load balancer. */
  public readonly directUrl: string;
  /** The database role's password (secret). */
  public readonly databasePassword: pulumi.Output<string>;
  /** The password of its own Redis server (secret), with a Redis broker or cache. */
  public readonly redisPassword: pulumi.Output<string> | undefined;
  /** The Celery broker URL with credentials (secret), as the first app host reaches it. */
  public readonly brokerUrl: pulumi.Output<string>;
  /** The uploads backup's encryption key (secret). @default none: uploads are not backed up by us */
  public readonly mediaBackupKey: pulumi.Output<string> | undefined;
  /** The deployed commit. */
  public readonly commit: string;
  /** The app's name. */
  public readonly name: string;
  /** The app and where it runs (outputs.ts reads its plain facts from it). */
  public readonly deployment: AppDeployment;

  constructor(name: string, args: DjangoAppArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:DjangoApp", name, {}, opts);
    const { deployment: d, config: cfg, topology: topo, shared } = args;
    const app = d.app;
    const hostOf = (n: string) => args.hosts.get(n)!;
    // The first app keeps the names (through aliases) of the one-app program's resources,
    // so a stack made before `apps` existed changes nothing when it is upgraded.
    const first = app.index === 0;
    const moved = (old: string) => ({ parent: this, aliases: first ? [{ name: old, parent: pulumi.rootStackResource }] : [] });
    const atRoot = { parent: this, aliases: first ? [{ parent: pulumi.rootStackResource }] : [] };

    const secretKey = new RandomSecret(`${name}-django-secret-key`, { length: 50 }, moved("django-secret-key"));
    const dbPassword = new RandomSecret(`${name}-db-password`, { length: 32 }, moved("db-password"));
    const rabbitPassword = cfg.broker.kind === "rabbitmq" ? new RandomSecret(`${name}-broker-password`, { length: 32 }, moved("broker-password")).value : undefined;
    // Its own Redis server's password. The first app keeps the shared server's password
    // of a stack made before per-app servers (the broker's, else the cache's), so an
    // upgrade replaces no secret.
    const redisOld = cfg.broker.kind === "redis" ? "broker-password" : "cache-password";
    const redisPassword = shared.redisHosts.size > 0 ? new RandomSecret(`${name}-redis-password`, { length: 32 }, moved(redisOld)).value : undefined;
    this.redisPassword = redisPassword;
    const brokerPassword = pulumi.output(rabbitPassword ?? redisPassword ?? "");

    const database = shared.db.addDatabase(app.name, { database: app.database.name, user: app.database.user, clients: d.codeHosts }, dbPassword.value, first);
    // One server per Redis host, reachable from this app's hosts only (and loopback).
    const redisReady = [...shared.redisHosts].map(([hostName, after]) => {
      const h = hostOf(hostName);
      const bind = listenAddresses(h.plan, d.codeHosts);
      return appRedis(`${hostName}-redis-${app.name}`, this, h, { app: app.name, port: app.redisPort, bind, password: redisPassword!, after: [after] });
    });
    const brokerReady = [...shared.broker.addApp(app.name, brokerPassword, first), ...redisReady];
    const cacheReady = [...shared.cacheReady, ...redisReady];

    // The code only where it runs. A load balancer that runs none of it gets a copy of the
    // collected static files (below), never the env file, the virtualenv or the code.
    const codeHosts = d.codeHosts;
    const releases = new Map(codeHosts.map((plan) => {
      const h = hostOf(plan.name);
      const env = pulumi.all([secretKey.value, dbPassword.value, brokerPassword, pulumi.output(redisPassword ?? "")])
        .apply(([key, dbPw, brokerPw, cachePw]) => appEnvironment(cfg, {
          secretKey: key, dbPassword: dbPw, brokerPassword: brokerPw,
          dbHost: addressFrom(h.plan, topo.db), brokerHost: addressFrom(h.plan, topo.broker),
          cacheHost: topo.cache && addressFrom(h.plan, topo.cache), cachePassword: cachePw,
          dbName: app.database.name, dbUser: app.database.user,
          ownAddresses: [h.plan.address, h.plan.privateAddress], media: shared.media,
          loadBalancerAddresses: topo.loadBalancer ? [topo.loadBalancer.address, topo.loadBalancer.privateAddress] : [],
        }, app));
      return [plan.name, new AppRelease(`${plan.name}-${app.name}`, {
        host: h, app, commit: args.commit, envFileContent: pulumi.secret(env.apply(renderEnvFile)), project: args.project,
      }, atRoot)];
    }));

    // Migrations run once per release, on the app's first app host, before any new code serves.
    const migrator = migratorOf(d);
    const migrateRelease = releases.get(migrator.name)!;
    // It runs the new release's code while the previous release still serves everywhere, so
    // a migration must work with the previous release's code (see README "Safe deploys").
    const migrate = hostOf(migrator.name).script(`${app.name}-migrate`, {
      description: `manage.py migrate of ${app.name} (release ${migrateRelease.releaseId})`,
      create: script(manageCommand(app, "migrate --noinput", migrateRelease.code)),
      check: script(manageCommand(app, "migrate --check", migrateRelease.code)),
      triggers: { commit: args.commit, env: migrateRelease.envHash },
    }, { ...atRoot, dependsOn: [...migrateRelease.ready, database] });

    // A separate load balancer: the static files collected on the migrator, copied there
    // by release (before any node switches, so the new release's pages find them). The
    // LoadBalancer removes what a stack made before this left there. It reaches two hosts,
    // so it is built here, not through one Host; it waits for the load balancer's baseline.
    const lbPlan = staticCopyHostOf(d, topo);
    const staticCopy = lbPlan && new StaticCopy(`${lbPlan.name}-${app.name}-static`, {
      from: hostOf(migrator.name).connection, to: hostOf(lbPlan.name).connection,
      app: app.name, release: migrateRelease.releaseId,
      staticRoot: migrateRelease.settings.apply((s) => servedFolders(s, app.static).static?.root ?? null),
      triggers: { env: migrateRelease.envHash },
    }, { parent: this, dependsOn: [...migrateRelease.ready, ...hostOf(lbPlan.name).baseline] });

    // Uploads on the one app host's disk (media.storage local) are backed up with the database.
    const only = d.appHosts.length === 1 ? d.appHosts[0]! : undefined;
    const backup = cfg.media.storage === "local" && only ? shared.backup : undefined;
    // Its own key: the host that keeps uploads never needs the one that decrypts the database.
    this.mediaBackupKey = backup && new RandomSecret(`${name}-media-key`, { length: 64 }, { parent: this }).value;
    const mediaBackup = backup && only && this.mediaBackupKey ? new MediaBackup(`${app.name}-media-backup`, {
      host: hostOf(only.name), store: backup.store, password: this.mediaBackupKey, previousPassword: backup.databaseKey, owner: app.name,
      mediaRoot: releases.get(only.name)!.settings.apply((s) => s.mediaRoot ?? appPaths(app.name).media),
      schedule: cfg.backup.schedule, retention: cfg.backup.retention, after: releases.get(only.name)!.ready,
      // Named after the app in `apps` (a one-app `app` keeps the unlabelled names), so no
      // other app ever takes over its snapshots, whatever the order of apps.
      ...(app.key === "app" ? {} : { label: app.name }),
    }, moved("media-backup")) : undefined;

    // The rollout: app nodes switch in batches of deploy.batchSize, each batch once the
    // previous one passed its health gates; the graph holds the order, so a preview shows it.
    const lb = topo.loadBalancer && hostOf(topo.loadBalancer.name);
    const nodes: AppNode[] = [];
    let previousBatch: pulumi.Resource[] = [];
    for (let i = 0; i < d.appHosts.length; i += cfg.deploy.batchSize) {
      const batch = d.appHosts.slice(i, i + cfg.deploy.batchSize).map((plan) => new AppNode(`${plan.name}-${app.name}`, {
        host: hostOf(plan.name), app, release: releases.get(plan.name)!,
        after: [migrate, ...cacheReady, ...(mediaBackup ? [mediaBackup.restored] : []), ...(staticCopy ? [staticCopy] : [])],
        afterSwitches: previousBatch,
        bindAddress: gunicornBindAddress(plan, topo),
        ...(lb ? { drain: { connection: lb.connection, seconds: cfg.deploy.drainSeconds } } : {}),
      }, atRoot));
      nodes.push(...batch);
      previousBatch = batch.map((n) => n.switch);
    }
    const switches = nodes.map((n) => n.switch);
    const nodeHosts = new Set(d.appHosts.map((h) => h.name));

    // Hosts without an app node move `current` themselves: workers after every app node.
    const activated = new Map(codeHosts.filter((plan) => !nodeHosts.has(plan.name)).map((plan) => {
      const isWorker = d.workers.includes(plan) || d.beat === plan;
      return [plan.name, releases.get(plan.name)!.activate(isWorker ? [migrate, ...switches] : [], app.keepReleases)];
    }));

    for (const plan of codeHosts.filter((h) => d.workers.includes(h) || d.beat === h)) {
      new CeleryWorker(`${plan.name}-${app.name}-celery`, {
        host: hostOf(plan.name), app, release: releases.get(plan.name)!,
        worker: d.workers.includes(plan), beat: d.beat === plan,
        after: [migrate, ...brokerReady, ...cacheReady, ...switches, ...(activated.has(plan.name) ? [activated.get(plan.name)!] : [])],
        stopTimeoutSeconds: cfg.deploy.celeryStopTimeoutSeconds,
      }, atRoot);
    }

    const lbRelease = topo.loadBalancer && releases.get(topo.loadBalancer.name);
    const upstreams = nodes.map((n) => n.upstream);
    this.site = lbRelease ? { app, upstreams, settings: lbRelease.settings, switches }
      : lbPlan ? { app, upstreams, settings: migrateRelease.settings, switches, staticCopy: lbStaticPaths(app.name) } : undefined;
    // The site is rewritten only after every switch: a drain edits it while it runs.
    this.siteReady = [...(lbRelease?.ready ?? []), ...(staticCopy ? [staticCopy] : []),
      ...(topo.loadBalancer && activated.has(topo.loadBalancer.name) ? [activated.get(topo.loadBalancer.name)!] : []), ...nodes.map((n) => n.service), ...switches];
    this.directUrl = `http://${d.appHosts[0]?.privateAddress ?? migrator.privateAddress}:${app.port}/`;
    this.databasePassword = pulumi.secret(dbPassword.value);
    this.brokerUrl = pulumi.secret(brokerPassword.apply((pw) => brokerUrl(cfg, pw, topo.broker.privateAddress, app)));
    this.commit = args.commit;
    this.name = app.name;
    this.deployment = d;
    this.registerOutputs({});
  }
}
