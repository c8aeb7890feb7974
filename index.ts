/**
 * django-fleet, as a table of contents: the preflight (config, topology, facts: all
 * checked before the first resource is registered, so bad input never changes a server),
 * each host and what it gets first, the shared services (database, broker, cache), each
 * app (DjangoApp), the replicas, the load balancer and logging, then the outputs. Each
 * step's wiring is in fleet/, one concern a file; the order here is the registration order.
 */
import * as pulumi from "@pulumi/pulumi";
import { preflight } from "./lib/preflight.ts";
import { buildHosts } from "./fleet/hosts.ts";
import { writeAppRecords } from "./fleet/appRecords.ts";
import { databasePrimary, dbReplicas } from "./fleet/database.ts";
import { brokerAndCache } from "./fleet/brokerAndCache.ts";
import { djangoApps } from "./fleet/apps.ts";
import { loadBalancer, loggingServer } from "./fleet/edge.ts";
import { fleetOutputs } from "./outputs.ts";

// Everything checked and read before the first resource: config, topology, object
// stores, each app's commit and project, each host's facts.
const pre = await preflight(pulumi.runtime.allConfig(), pulumi.getStack());

// Each host with what every later step on it waits for (its baseline: nftables, the
// object store's CA, the firewall, its packages), then each app's record.
const hosts = buildHosts(pre);
writeAppRecords(pre, hosts);

// The shared services, each app on them, then what needs every app's database or site.
const primary = databasePrimary(pre, hosts);
const services = brokerAndCache(pre, hosts);
const django = djangoApps(pre, hosts, primary, services);
primary.pgBackup?.firstBackup(primary.server.databaseResources);
const replicas = dbReplicas(pre, hosts, primary);
const lb = loadBalancer(pre, hosts, django);
const logging = loggingServer(pre, hosts);

// The stack outputs (outputs.ts: names, shapes and secrecy are a public interface).
export const {
  siteUrl, apps, appSecrets, hosts: hostAddresses, appHosts, database, databaseReplicas, databasePassword, broker, brokerUrl,
  loggingEndpoint, cache, cacheUrl, deployedCommit, backup, backupEncryptionKey, lastRestoreDrill,
} = fleetOutputs({
  config: pre.cfg, topology: pre.topo, apps: django, loadBalancer: lb, database: primary.server, broker: services.broker,
  replicas, logging, backupTarget: pre.backupTarget, backupKey: primary.backupKey,
  lastRestoreDrill: primary.pgBackup?.lastDrill,
});
