/**
 * django-fleet, as a table of contents: the preflight (config, topology, facts: all
 * checked before the first resource is registered, so bad input never changes a server),
 * each host and its firewall, the shared services (database, broker, cache), each app
 * (DjangoApp), the load balancer and logging, then the outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { preflight } from "./lib/preflight.ts";
import { cacheUsesBrokerRedis } from "./config/environment.ts";
import { appRecord, appRecordPath } from "./config/appRecords.ts";
import { openingsFor } from "./config/firewall.ts";
import { HOST_CA_FILE } from "./config/objectStore.ts";
import { RandomSecret } from "./providers/randomSecret.ts";
import { RemoteFile } from "./providers/remoteFile.ts";
import { Host } from "./components/host.ts";
import { Firewall } from "./services/nftables/firewall.ts";
import { DbServer } from "./services/postgresql/dbServer.ts";
import { DbReplica } from "./services/postgresql/dbReplica.ts";
import { MariaDbReplica, MariaDbServer } from "./services/mariadb/mariaDbServer.ts";
import { ARCHIVE_COMMAND, PgBackup } from "./services/pgbackrest/pgBackup.ts";
import { Broker } from "./services/rabbitmq/broker.ts";
import { Cache } from "./services/memcached/cache.ts";
import { DjangoApp } from "./components/djangoApp.ts";
import { LoadBalancer } from "./services/nginx/loadBalancer.ts";
import { LoggingServer } from "./services/rsyslog/loggingServer.ts";
import { readFileSync } from "node:fs";
import { fleetOutputs } from "./outputs.ts";

// Everything checked and read before the first resource: config, topology, object
// stores, each app's commit and project, each host's facts.
const { cfg, topo, privateKey, backupTarget, mediaTarget, code, facts } = await preflight(pulumi.runtime.allConfig(), pulumi.getStack());

const hosts = new Map(topo.hosts.map((plan) => [plan.name, new Host(plan.name, {
  plan,
  config: cfg,
  facts: facts.get(plan.name)!,
  connection: pulumi.secret(pulumi.output(privateKey).apply((key) => ({
    host: plan.address, port: plan.port, user: plan.user, hostKey: plan.hostKey, privateKey: key,
  }))),
})]));
const hostOf = (name: string) => hosts.get(name)!;
// A private object store's CA, where its clients run: the database host (backups) and
// the hosts running an app's code (media). One bundle per host, both CAs if they differ.
const caOn = new Map<string, Set<string>>();
const needCa = (host: string, file: string | undefined) => { if (file) caOn.set(host, (caOn.get(host) ?? new Set()).add(file)); };
needCa(topo.db.name, backupTarget?.caFile);
for (const h of [...topo.codeHosts, ...(topo.loadBalancer ? [topo.loadBalancer] : [])]) needCa(h.name, mediaTarget?.caFile);
for (const [name, files] of caOn) {
  const h = hostOf(name);
  h.addReady(new RemoteFile(`${name}-object-store-ca`, {
    connection: h.connection, path: HOST_CA_FILE, mode: "0644",
    content: [...files].map((f) => readFileSync(f, "utf8").trimEnd() + "\n").join(""),
  }, { dependsOn: h.ready }));
}
// Every host's firewall first: all later steps on a host wait for it (through host.ready),
// and steps that reach another host wait for that host's, through their dependencies.
for (const plan of topo.hosts) {
  const h = hostOf(plan.name);
  h.addReady(new Firewall(`${plan.name}-firewall`, { host: h, openings: openingsFor(plan, topo, cfg) }).service);
}
// One record per app on the database host: how a later run knows an app was removed.
for (const d of topo.deployments) {
  const h = hostOf(topo.db.name);
  new RemoteFile(`${d.app.name}-app-record`, {
    connection: h.connection, path: appRecordPath(d.app.name), content: appRecord(d.app),
  }, { dependsOn: h.ready });
}

// Backups: pgBackRest on a PostgreSQL primary (MariaDB: restic, in MariaDbServer).
const backupCipher = backupTarget ? new RandomSecret("backup-cipher-pass", { length: 64 }) : undefined;
const dbApps = topo.deployments.map((d) => ({ database: d.app.database.name, user: d.app.database.user, clients: d.codeHosts }));
const firstDb = dbApps[0]!;
const pgBackup = backupTarget && cfg.database.engine === "postgresql" ? new PgBackup("db-backup", {
  host: hostOf(topo.db.name), store: backupTarget, port: cfg.database.port, database: firstDb.database,
  cipherPass: backupCipher!.value, schedule: cfg.backup.schedule, drillSchedule: cfg.backup.drillSchedule,
  retention: cfg.backup.retention,
}) : undefined;

const replicationPassword = topo.dbReplicas.length ? new RandomSecret("replication-password", { length: 32 }) : undefined;
const dbArgs = {
  host: hostOf(topo.db.name), apps: dbApps, port: cfg.database.port, protect: cfg.protectData,
  replicas: topo.dbReplicas, replicationPassword: replicationPassword?.value,
  archive: pgBackup && { command: ARCHIVE_COMMAND, after: pgBackup.beforeArchiving },
};
const db = cfg.database.engine === "mariadb"
  ? new MariaDbServer("db", {
    ...dbArgs,
    backup: backupTarget && { store: backupTarget, password: backupCipher!.value, schedule: cfg.backup.schedule, retention: cfg.backup.retention },
  })
  : new DbServer("db", dbArgs);

// The Redis broker's password is the fleet's (one server); RabbitMQ accounts are each app's.
const redisBrokerPassword = cfg.broker.kind === "redis" ? new RandomSecret("broker-password", { length: 32 }) : undefined;
const brokerServer = new Broker("broker", {
  host: hostOf(topo.broker.name), kind: cfg.broker.kind, clients: topo.codeHosts, password: redisBrokerPassword?.value ?? "",
});
// A Redis cache on the broker's Redis shares its password; its own Redis gets its own.
const cacheShared = topo.cache !== undefined && cacheUsesBrokerRedis(topo.cache, cfg);
const cachePassword = cfg.cache.kind !== "redis" ? undefined
  : cacheShared ? redisBrokerPassword! : new RandomSecret("cache-password", { length: 32 });
const cacheServer = topo.cache && cfg.cache.kind !== "none" ? new Cache("cache", {
  host: hostOf(topo.cache.name), kind: cfg.cache.kind, clients: topo.codeHosts,
  password: cachePassword?.value, sharedWithBroker: cacheShared,
}) : undefined;

// Each app: its secrets, database, broker account, code, migration, nodes and Celery.
const djangoApps = code.map(({ d, commit, project }) => new DjangoApp(d.app.name, {
  deployment: d, config: cfg, topology: topo, hosts, commit, project,
  shared: {
    db, broker: brokerServer, redisBrokerPassword: redisBrokerPassword?.value, cacheReady: cacheServer?.ready ?? [], cachePassword: cachePassword?.value,
    media: mediaTarget, backup: backupTarget && { store: backupTarget, password: backupCipher!.value },
  },
}));
pgBackup?.firstBackup(db.databaseResources);

const replicas = topo.dbReplicas.map((plan, i) => cfg.database.engine === "mariadb"
  ? new MariaDbReplica(`${plan.name}-replica`, {
    host: hostOf(plan.name), primary: topo.db, database: firstDb.database, port: cfg.database.port, serverId: i + 2,
    replicationPassword: replicationPassword!.value, after: [...db.replicationReady, ...db.databaseResources],
  })
  : new DbReplica(`${plan.name}-replica`, {
    host: hostOf(plan.name), primary: topo.db, apps: dbApps,
    port: cfg.database.port, replicationPassword: replicationPassword!.value, after: db.replicationReady,
  }));

const lb = topo.loadBalancer && new LoadBalancer("lb", {
  host: hostOf(topo.loadBalancer.name), config: cfg,
  sites: djangoApps.map((a) => a.site!),
  after: djangoApps.flatMap((a) => a.siteReady),
  ...(cfg.loadBalancer.acme?.caFile ? { acmeCaPem: readFileSync(cfg.loadBalancer.acme.caFile, "utf8") } : {}),
});

const logging = topo.logging && new LoggingServer("logging", {
  host: hostOf(topo.logging.name), hosts: [...hosts.values()],
  port: cfg.logging.port, retentionDays: cfg.logging.retentionDays, config: cfg,
});

const outputs = fleetOutputs({
  config: cfg, topology: topo,
  apps: djangoApps.map((app) => ({ app, url: lb ? lb.urls[app.name]! : app.directUrl })),
  database: db, broker: brokerServer, replicaAddresses: replicas.map((r) => r.address), loggingEndpoint: logging ? logging.endpoint : undefined,
  cachePassword: cachePassword?.value, backupTarget, backupKey: backupCipher?.value, lastRestoreDrill: pgBackup?.lastDrill,
});

export const siteUrl = outputs.siteUrl;
export const apps = outputs.apps;
export const appSecrets = outputs.appSecrets;
export const hostAddresses = outputs.hosts;
export const appHosts = outputs.appHosts;
export const database = outputs.database;
export const databaseReplicas = outputs.databaseReplicas;
export const databasePassword = outputs.databasePassword;
export const broker = outputs.broker;
export const brokerUrl = outputs.brokerUrl;
export const loggingEndpoint = outputs.loggingEndpoint;
export const cache = outputs.cache;
export const cacheUrl = outputs.cacheUrl;
export const deployedCommit = outputs.deployedCommit;
export const backup = outputs.backup;
export const backupEncryptionKey = outputs.backupEncryptionKey;
export const lastRestoreDrill = outputs.lastRestoreDrill;
