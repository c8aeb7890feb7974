/**
 * django-fleet: load config, build the topology, create the components, export outputs.
 * Everything that can be wrong with the config is found before the first resource is
 * registered, so bad input never changes a server.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig } from "./config/load.ts";
import { detectPythonProject, filesToRead, type PythonProject } from "./config/pythonProject.ts";
import { factsProblems } from "./config/factsRules.ts";
import { readHostFacts } from "./lib/hostFacts.ts";
import { readRepoFiles } from "./lib/repoFiles.ts";
import { readInventory, readPrivateKey } from "./config/files.ts";
import { buildTopology } from "./config/topology.ts";
import { cacheUrl as cacheUrlFor, cacheUsesBrokerRedis } from "./config/environment.ts";
import { appRecord, appRecordPath, removedAppNote, removedApps } from "./config/appRecords.ts";
import { resolveCommit } from "./lib/gitRemote.ts";
import { RandomSecret } from "./providers/randomSecret.ts";
import { Host } from "./components/host.ts";
import { DbServer } from "./components/dbServer.ts";
import { DbReplica } from "./components/dbReplica.ts";
import { MariaDbReplica, MariaDbServer } from "./components/mariaDbServer.ts";
import { Firewall } from "./components/firewall.ts";
import { Cache } from "./components/cache.ts";
import { openingsFor } from "./config/firewall.ts";
import { Broker } from "./components/broker.ts";
import { DjangoApp } from "./components/djangoApp.ts";
import { LoadBalancer } from "./components/loadBalancer.ts";
import { LoggingServer } from "./components/loggingServer.ts";
import { backupStore, HOST_CA_FILE, mediaStore, plainCredentialProblems } from "./config/objectStore.ts";
import { RemoteFile } from "./providers/remoteFile.ts";
import { ARCHIVE_COMMAND, PgBackup } from "./components/pgBackup.ts";
import { existsSync, readFileSync } from "node:fs";
import type { AppOutput, FleetOutputs } from "./outputs.ts";

const cfg = parseConfig(pulumi.runtime.allConfig());
const topo = buildTopology(cfg, cfg.inventoryFile ? readInventory(cfg.inventoryFile) : undefined);
const privateKey = readPrivateKey(topo.privateKeyPath);
// Object stores: keys only as secrets, a CA file that exists; checked before any host is read.
const stack = pulumi.getStack();
const backupTarget = backupStore(cfg, stack);
const mediaTarget = mediaStore(cfg, stack);
// Pulumi marks a top-level key secret when a value under it was set with --secret.
const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret ?? (() => false);
const storeProblems = [
  ...plainCredentialProblems(cfg, isSecret),
  ...([["backup", backupTarget], ["media", cfg.media.target && mediaTarget]] as const).flatMap(([key, t]) =>
    t && t.caFile && !existsSync(t.caFile) ? [`${key}.target.caFile: ${JSON.stringify(t.caFile)} does not exist on this machine. Fix: give the path of the object store's CA certificate (PEM)`] : []),
];
if (storeProblems.length) throw new ConfigError(storeProblems);
if (!backupTarget && cfg.protectData) {
  pulumi.log.warn("backup.target is not set: nothing backs up this stack's database. Set backup.target (README: \"Backups, restores and shared media\").");
}
// Facts read before anything is registered: each app's commit and how its project installs
// its dependencies (from git), each host's Debian release and Python (over SSH).
const code = topo.deployments.map((d) => {
  const commit = resolveCommit(d.app.repo, d.app.ref);
  const project = detectPythonProject(d.app, readRepoFiles(d.app.repo, commit, filesToRead(d.app)));
  return { d, commit, project };
});
// Problems of one app's project name its own key (`apps[i].…`), not the shorthand's.
const keyed = (key: string, problem: string) => key === "app" ? problem : problem.replace(/\bapp\./g, `${key}.`);
const projectProblems = code.flatMap(({ d, project }) => typeof project === "string" ? [keyed(d.app.key, project)] : []);
if (projectProblems.length) throw new ConfigError(projectProblems);
const facts = await readHostFacts(topo.hosts.map((plan, index) => ({ plan, index, pinned: cfg.hosts[index]!.os })), privateKey);
const factProblems = code.flatMap(({ d, commit, project }) => {
  // The code runs on the app's hosts and on the load balancer (which serves its static files).
  const names = new Set([...d.codeHosts, ...(topo.loadBalancer ? [topo.loadBalancer] : [])].map((h) => h.name));
  return factsProblems(topo, facts, project as PythonProject, commit, [...names]).map((p) => keyed(d.app.key, p));
});
if (factProblems.length) throw new ConfigError(factProblems);
for (const r of removedApps(topo, facts)) pulumi.log.warn(removedAppNote(r, cfg.database.engine));

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
const broker = new Broker("broker", {
  host: hostOf(topo.broker.name), kind: cfg.broker.kind, clients: topo.codeHosts, password: redisBrokerPassword?.value ?? "",
});
// A Redis cache on the broker's Redis shares its password; its own Redis gets its own.
const cacheShared = topo.cache !== undefined && cacheUsesBrokerRedis(topo.cache, cfg);
const cachePassword = cfg.cache.kind !== "redis" ? undefined
  : cacheShared ? redisBrokerPassword! : new RandomSecret("cache-password", { length: 32 });
const cache = topo.cache && cfg.cache.kind !== "none" ? new Cache("cache", {
  host: hostOf(topo.cache.name), kind: cfg.cache.kind, clients: topo.codeHosts,
  password: cachePassword?.value, sharedWithBroker: cacheShared,
}) : undefined;

// Each app: its secrets, database, broker account, code, migration, nodes and Celery.
const djangoApps = code.map(({ d, commit, project }) => new DjangoApp(d.app.name, {
  deployment: d, config: cfg, topology: topo, hosts, commit, project: project as PythonProject,
  shared: {
    db, broker, redisBrokerPassword: redisBrokerPassword?.value, cacheReady: cache?.ready ?? [], cachePassword: cachePassword?.value,
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
});

const logging = topo.logging && new LoggingServer("logging", {
  host: hostOf(topo.logging.name), hosts: [...hosts.values()],
  port: cfg.logging.port, retentionDays: cfg.logging.retentionDays, config: cfg,
});

const appOutputs: Record<string, AppOutput> = Object.fromEntries(djangoApps.map((a, i) => {
  const d = topo.deployments[i]!;
  return [d.app.name, {
    url: lb ? lb.urls[d.app.name]! : a.directUrl,
    hosts: d.appHosts.map((h) => h.privateAddress),
    port: d.app.port,
    database: { name: d.app.database.name, user: d.app.database.user },
    databasePassword: a.databasePassword,
    brokerUrl: a.brokerUrl,
    brokerVhost: cfg.broker.kind === "rabbitmq" ? d.app.name : null,
    brokerRedisDb: cfg.broker.kind === "redis" ? d.app.redisDb : null,
    deployedCommit: a.commit,
  }];
}));
const main = djangoApps[0]!;
const mainApp = topo.deployments[0]!.app;
const outputs: FleetOutputs = {
  siteUrl: appOutputs[mainApp.name]!.url,
  apps: appOutputs,
  hosts: Object.fromEntries(topo.hosts.map((h) => [h.name, { address: h.address, privateAddress: h.privateAddress, roles: [...h.roles] }])),
  appHosts: topo.deployments[0]!.appHosts.map((h) => h.privateAddress),
  database: { engine: cfg.database.engine, host: db.address, port: db.port, name: mainApp.database.name, user: mainApp.database.user },
  databaseReplicas: replicas.map((r) => r.address),
  databasePassword: main.databasePassword,
  brokerUrl: main.brokerUrl,
  loggingEndpoint: logging ? logging.endpoint : null,
  cacheUrl: topo.cache && cfg.cache.kind !== "none"
    ? pulumi.secret(pulumi.output(cachePassword?.value ?? "").apply((pw) => cacheUrlFor(cfg, topo.cache!.privateAddress, pw)!))
    : null,
  deployedCommit: main.commit,
  backup: backupTarget ? {
    endpoint: backupTarget.endpoint, bucket: backupTarget.bucket, region: backupTarget.region, prefix: backupTarget.prefix,
    tool: cfg.database.engine === "postgresql" ? "pgbackrest" : "restic", schedule: cfg.backup.schedule, retention: cfg.backup.retention,
  } : null,
  backupEncryptionKey: backupCipher ? pulumi.secret(backupCipher.value) : null,
  lastRestoreDrill: pgBackup ? pgBackup.lastDrill : null,
};

export const siteUrl = outputs.siteUrl;
export const apps = outputs.apps;
export const hostAddresses = outputs.hosts;
export const appHosts = outputs.appHosts;
export const database = outputs.database;
export const databaseReplicas = outputs.databaseReplicas;
export const databasePassword = outputs.databasePassword;
export const brokerUrl = outputs.brokerUrl;
export const loggingEndpoint = outputs.loggingEndpoint;
export const cacheUrl = outputs.cacheUrl;
export const deployedCommit = outputs.deployedCommit;
export const backup = outputs.backup;
export const backupEncryptionKey = outputs.backupEncryptionKey;
export const lastRestoreDrill = outputs.lastRestoreDrill;
