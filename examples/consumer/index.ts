// A consumer of django-fleet: reads its outputs with StackReference (config key
// `fleetStack`, e.g. `organization/django-fleet/prod`) and derives a monitoring config.
// Pulumi keeps secrecy per output: the plain ones (`apps`, `database`, ...) arrive plain
// and so does what is derived from them only; a secret one (`appSecrets`, `brokerUrl`)
// arrives secret and makes secret whatever is derived from it. Reading the secret ones
// takes the fleet's backend and its secrets passphrase (README, "Stack outputs").
import * as pulumi from "@pulumi/pulumi";
import type { AppOutput, AppSecretsOutput, DatabaseOutput } from "../../outputs.ts";
import { databaseDsn, renderMonitoring } from "./monitoring.ts";

const cfg = new pulumi.Config();
const fleet = new pulumi.StackReference(cfg.require("fleetStack"));

const siteUrl = fleet.requireOutput("siteUrl") as pulumi.Output<string>;
const appHosts = fleet.requireOutput("appHosts") as pulumi.Output<string[]>;
const database = fleet.requireOutput("database") as pulumi.Output<DatabaseOutput>;
// Every app of the fleet (stacks made before `apps` existed have only the one-app outputs).
const apps = fleet.getOutput("apps") as pulumi.Output<Record<string, AppOutput> | undefined>;
// Every app's credentials (secret). Stacks made before `appSecrets` existed kept them in `apps`.
const appSecrets = fleet.getOutput("appSecrets") as pulumi.Output<Record<string, AppSecretsOutput> | undefined>;

/** Plain: built from plain outputs only. */
export const monitoringConfig = pulumi.all([siteUrl, appHosts, database, apps]).apply(([url, hosts, db, all]) => {
  const list = all ? Object.values(all) : [{ url, hosts, port: cfg.getNumber("appPort") ?? 8000 }];
  return renderMonitoring({
    sites: list.map((a) => a.url),
    healthChecks: list.flatMap((a) => a.hosts.map((h) => `http://${h}:${a.port}/healthz`)),
    database: db,
  });
});

/** Plain: each app's URL, by app name. */
export const appUrls = apps.apply((all) => Object.fromEntries(Object.entries(all ?? {}).map(([name, a]) => [name, a.url])));

/** Secret: each app's database DSN for a metrics exporter, the plain endpoint plus the secret password. */
export const databaseDsns = pulumi.all([database, apps, appSecrets]).apply(([db, all, secrets]) => {
  const creds = (secrets ?? all ?? {}) as Record<string, Partial<AppSecretsOutput>>;
  return Object.fromEntries(Object.entries(all ?? {}).flatMap(([name, a]) => {
    const password: unknown = creds[name]?.databasePassword;
    // A secret output this stack cannot decrypt (another passphrase) arrives as `{}`.
    if (typeof password !== "string") {
      pulumi.log.warn(`no database password of ${name} in appSecrets: was it elided (this stack needs the fleet stack's secrets passphrase)?`);
      return [];
    }
    return [[name, databaseDsn(db, a.database, password)]];
  }));
});

/** Secret: credentials stay secret across the stack boundary. */
export const brokerUrl = fleet.requireOutput("brokerUrl");
