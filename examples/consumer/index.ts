// A consumer of django-fleet: reads its outputs with StackReference (config key
// `fleetStack`, e.g. `organization/django-fleet/prod`) and derives a monitoring config.
import * as pulumi from "@pulumi/pulumi";
import type { AppOutput, DatabaseOutput } from "../../outputs.ts";
import { renderMonitoring } from "./monitoring.ts";

const cfg = new pulumi.Config();
const fleet = new pulumi.StackReference(cfg.require("fleetStack"));

const siteUrl = fleet.requireOutput("siteUrl") as pulumi.Output<string>;
const appHosts = fleet.requireOutput("appHosts") as pulumi.Output<string[]>;
const database = fleet.requireOutput("database") as pulumi.Output<DatabaseOutput>;
// Every app of the fleet (stacks made before `apps` existed have only the one-app outputs).
const apps = fleet.getOutput("apps") as pulumi.Output<Record<string, Pick<AppOutput, "url" | "hosts" | "port">> | undefined>;

export const monitoringConfig = pulumi.all([siteUrl, appHosts, database, apps]).apply(([url, hosts, db, all]) => {
  const list = all ? Object.values(all) : [{ url, hosts, port: cfg.getNumber("appPort") ?? 8000 }];
  return renderMonitoring({
    sites: list.map((a) => a.url),
    healthChecks: list.flatMap((a) => a.hosts.map((h) => `http://${h}:${a.port}/healthz`)),
    database: db,
  });
});
/** Credentials stay secret across the stack boundary. */
export const brokerUrl = fleet.requireOutput("brokerUrl");
