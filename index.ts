/**
 * django-fleet: load config, build the topology, create the components, export outputs.
 * Everything that can be wrong with the config is found before the first resource is
 * registered, so bad input never changes a server.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseConfig } from "./config/load.ts";
import { detectPythonProject, filesToRead } from "./config/pythonProject.ts";
import { factsProblems } from "./config/factsRules.ts";
import { readHostFacts } from "./lib/hostFacts.ts";
import { readRepoFiles } from "./lib/repoFiles.ts";
import { readInventory, readPrivateKey } from "./config/files.ts";
import { buildTopology } from "./config/topology.ts";
import { appEnvironment, brokerUrl as brokerUrlFor, cacheUrl as cacheUrlFor, cacheUsesBrokerRedis } from "./config/environment.ts";
import { resolveCommit } from "./lib/gitRemote.ts";
import { renderEnvFile } from "./templates/envFile.ts";
import { RandomSecret } from "./providers/randomSecret.ts";
import { Host } from "./components/host.ts";
import { DbServer } from "./components/dbServer.ts";
import { DbReplica } from "./components/dbReplica.ts";
import { MariaDbReplica, MariaDbServer } from "./components/mariaDbServer.ts";
import { Firewall } from "./components/firewall.ts";
import { Cache } from "./components/cache.ts";
import { openingsFor } from "./config/firewall.ts";
import { Broker } from "./components/broker.ts";
import { AppRelease, manageCommand } from "./components/appRelease.ts";
import { AppNode } from "./components/appNode.ts";
import { CeleryWorker } from "./components/celeryWorker.ts";
import { LoadBalancer } from "./components/loadBalancer.ts";
import { LoggingServer } from "./components/loggingServer.ts";
import { RemoteScript } from "./providers/remoteScript.ts";
import { script } from "./lib/shell.ts";
import { addressFrom } from "./config/topology.ts";
import { backupStore, HOST_CA_FILE, mediaStore, plainCredentialProblems } from "./config/objectStore.ts";
import { RemoteFile } from "./providers/remoteFile.ts";
import { ARCHIVE_COMMAND, PgBackup } from "./components/pgBackup.ts";
import { MediaBackup } from "./components/mediaBackup.ts";
import { appPaths } from "./components/paths.ts";
import { existsSync, readFileSync } from "node:fs";
import type { FleetOutputs } from "./outputs.ts";

const cfg = parseConfig(pulumi.runtime.allConfig());
const topo = buildTopology(cfg, cfg.inventoryFile ? readInventory(cfg.inventoryFile) : undefined);
const privateKey = readPrivateKey(topo.privateKeyPath);
const commit = resolveCommit(cfg.app.repo, cfg.app.ref);
const app = cfg.app;
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
// Facts read before anything is registered: each host's Debian release and Python, and
// how the project at `commit` installs its dependencies and which Python it needs.
const project = detectPythonProject(app, readRepoFiles(app.repo, commit, filesToRead(app)));
if (typeof project === "string") throw new ConfigError([project]);
const facts = await readHostFacts(topo.hosts.map((plan, index) => ({ plan, index, pinned: cfg.hosts[index]!.os })), privateKey);
// The app's code everywhere it runs: app, worker and beat hosts, and the load balancer
// (which serves the collected static files).
const codeHostNames = new Set([...topo.codeHosts, ...(topo.loadBalancer ? [topo.loadBalancer] : [])].map((h) => h.name));
const factProblems = factsProblems(topo, facts, project, commit, [...codeHostNames]);
if (factProblems.length) throw new ConfigError(factProblems);
const dbName = cfg.database.name ?? app.name;
const dbUser = cfg.database.user ?? app.name;

const secretKey = new RandomSecret("django-secret-key", { length: 50 });
const dbPassword = new RandomSecret("db-password", { length: 32 });
const brokerPassword = new RandomSecret("broker-password", { length: 32 });
// A Redis cache on the broker's Redis shares its password; its own Redis gets its own.
const cacheShared = topo.cache !== undefined && cacheUsesBrokerRedis(topo.cache, cfg);
const cachePassword = cfg.cache.kind !== "redis" ? undefined
  : cacheShared ? brokerPassword : new RandomSecret("cache-password", { length: 32 });
const replicationPassword = topo.dbReplicas.length ? new RandomSecret("replication-password", { length: 32 }) : undefined;

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
// the hosts running the app's code (media). One bundle per host, both CAs if they differ.
const caOn = new Map<string, Set<string>>();
const needCa = (host: string, file: string | undefined) => { if (file) caOn.set(host, (caOn.get(host) ?? new Set()).add(file)); };
needCa(topo.db.name, backupTarget?.caFile);
for (const name of codeHostNames) needCa(name, mediaTarget?.caFile);
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

// Backups: pgBackRest on a PostgreSQL primary (MariaDB: restic, in MariaDbServer).
const backupCipher = backupTarget ? new RandomSecret("backup-cipher-pass", { length: 64 }) : undefined;
const pgBackup = backupTarget && cfg.database.engine === "postgresql" ? new PgBackup("db-backup", {
  host: hostOf(topo.db.name), store: backupTarget, port: cfg.database.port, database: dbName,
  cipherPass: backupCipher!.value, schedule: cfg.backup.schedule, drillSchedule: cfg.backup.drillSchedule,
  retention: cfg.backup.retention,
}) : undefined;

const dbArgs = {
  host: hostOf(topo.db.name), clients: topo.codeHosts, database: dbName, user: dbUser,
  password: dbPassword.value, port: cfg.database.port, protect: cfg.protectData,
  replicas: topo.dbReplicas, replicationPassword: replicationPassword?.value,
  archive: pgBackup && { command: ARCHIVE_COMMAND, after: pgBackup.beforeArchiving },
};
const db = cfg.database.engine === "mariadb"
  ? new MariaDbServer("db", {
    ...dbArgs,
    backup: backupTarget && { store: backupTarget, password: backupCipher!.value, schedule: cfg.backup.schedule, retention: cfg.backup.retention },
  })
  : new DbServer("db", dbArgs);
pgBackup?.firstBackup([db.databaseResource]);
const replicas = topo.dbReplicas.map((plan, i) => cfg.database.engine === "mariadb"
  ? new MariaDbReplica(`${plan.name}-replica`, {
    host: hostOf(plan.name), primary: topo.db, database: dbName, port: cfg.database.port, serverId: i + 2,
    replicationPassword: replicationPassword!.value, after: db.replicationReady,
  })
  : new DbReplica(`${plan.name}-replica`, {
    host: hostOf(plan.name), primary: topo.db, clients: topo.codeHosts, database: dbName, user: dbUser,
    port: cfg.database.port, replicationPassword: replicationPassword!.value, after: db.replicationReady,
  }));

const broker = new Broker("broker", {
  host: hostOf(topo.broker.name), kind: cfg.broker.kind, clients: topo.codeHosts,
  appName: app.name, password: brokerPassword.value,
});
const cache = topo.cache && cfg.cache.kind !== "none" ? new Cache("cache", {
  host: hostOf(topo.cache.name), kind: cfg.cache.kind, clients: topo.codeHosts,
  password: cachePassword?.value, sharedWithBroker: cacheShared,
}) : undefined;

const releases = new Map([...codeHostNames].map((name) => {
  const h = hostOf(name);
  const env = pulumi.all([secretKey.value, dbPassword.value, brokerPassword.value, cachePassword?.value ?? ""])
    .apply(([key, dbPw, brokerPw, cachePw]) => appEnvironment(cfg, {
      secretKey: key, dbPassword: dbPw, brokerPassword: brokerPw,
      dbHost: addressFrom(h.plan, topo.db), brokerHost: addressFrom(h.plan, topo.broker),
      cacheHost: topo.cache && addressFrom(h.plan, topo.cache), cachePassword: cachePw,
      dbName, dbUser, ownAddresses: [h.plan.address, h.plan.privateAddress], media: mediaTarget,
    }));
  return [name, new AppRelease(`${name}-${app.name}`, {
    host: h, app, commit, envFileContent: pulumi.secret(env.apply(renderEnvFile)), project,
  })];
}));

// Migrations run once per release, on the first app host, before any new code serves.
const first = topo.apps[0]!;
const migrate = new RemoteScript(`${app.name}-migrate`, {
  connection: hostOf(first.name).connection,
  description: "manage.py migrate",
  create: script(manageCommand(app, "migrate --noinput")),
  check: script(manageCommand(app, "migrate --check")),
  triggers: { commit, env: releases.get(first.name)!.envHash },
}, { dependsOn: [...releases.get(first.name)!.ready, db.databaseResource] });

// Uploads on the one app host's disk (media.storage local) are backed up with the database.
const mediaBackup = backupTarget && cfg.media.storage === "local" && topo.apps.length === 1 ? new MediaBackup("media-backup", {
  host: hostOf(first.name), store: backupTarget, password: backupCipher!.value, owner: app.name,
  mediaRoot: releases.get(first.name)!.settings.apply((s) => s.mediaRoot ?? appPaths(app.name).media),
  schedule: cfg.backup.schedule, retention: cfg.backup.retention, after: releases.get(first.name)!.ready,
}) : undefined;

const appNodes = topo.apps.map((plan) => new AppNode(`${plan.name}-${app.name}`, {
  host: hostOf(plan.name), app, release: releases.get(plan.name)!, after: [migrate, ...(cache?.ready ?? []), ...(mediaBackup ? [mediaBackup.restored] : [])],
  bindAddress: topo.loadBalancer?.name === plan.name ? "127.0.0.1" : plan.privateAddress,
}));

for (const plan of topo.hosts.filter((h) => h.roles.has("worker") || h.roles.has("beat"))) {
  new CeleryWorker(`${plan.name}-${app.name}-celery`, {
    host: hostOf(plan.name), config: cfg, release: releases.get(plan.name)!,
    worker: plan.roles.has("worker"), beat: plan.roles.has("beat"), after: [migrate, ...broker.ready, ...(cache?.ready ?? [])],
  });
}

const lb = topo.loadBalancer && new LoadBalancer("lb", {
  host: hostOf(topo.loadBalancer.name), config: cfg,
  upstreams: appNodes.map((n) => n.upstream),
  settings: releases.get(topo.loadBalancer.name)!.settings,
  after: [...releases.get(topo.loadBalancer.name)!.ready, ...appNodes.map((n) => n.service)],
});

const logging = topo.logging && new LoggingServer("logging", {
  host: hostOf(topo.logging.name), hosts: [...hosts.values()],
  port: cfg.logging.port, retentionDays: cfg.logging.retentionDays, config: cfg,
});

const outputs: FleetOutputs = {
  siteUrl: lb ? lb.url : `http://${first.privateAddress}:${app.port}/`,
  hosts: Object.fromEntries(topo.hosts.map((h) => [h.name, { address: h.address, privateAddress: h.privateAddress, roles: [...h.roles] }])),
  appHosts: topo.apps.map((h) => h.privateAddress),
  database: { engine: cfg.database.engine, host: db.address, port: db.port, name: dbName, user: dbUser },
  databaseReplicas: replicas.map((r) => r.address),
  databasePassword: pulumi.secret(dbPassword.value),
  brokerUrl: pulumi.secret(brokerPassword.value.apply((pw) => brokerUrlFor(cfg, pw, broker.address))),
  loggingEndpoint: logging ? logging.endpoint : null,
  cacheUrl: topo.cache && cfg.cache.kind !== "none"
    ? pulumi.secret(pulumi.output(cachePassword?.value ?? "").apply((pw) => cacheUrlFor(cfg, topo.cache!.privateAddress, pw)!))
    : null,
  deployedCommit: commit,
  backup: backupTarget ? {
    endpoint: backupTarget.endpoint, bucket: backupTarget.bucket, region: backupTarget.region, prefix: backupTarget.prefix,
    tool: cfg.database.engine === "postgresql" ? "pgbackrest" : "restic", schedule: cfg.backup.schedule, retention: cfg.backup.retention,
  } : null,
  backupEncryptionKey: backupCipher ? pulumi.secret(backupCipher.value) : null,
  lastRestoreDrill: pgBackup ? pgBackup.lastDrill : null,
};

export const siteUrl = outputs.siteUrl;
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
