// A consumer of django-fleet: reads its outputs with StackReference (config key
// `fleetStack`, e.g. `organization/django-fleet/prod`) and derives a monitoring config.
import * as pulumi from "@pulumi/pulumi";
import type { DatabaseOutput } from "../../outputs.ts";
import { renderMonitoring } from "./monitoring.ts";

const cfg = new pulumi.Config();
const fleet = new pulumi.StackReference(cfg.require("fleetStack"));

const siteUrl = fleet.requireOutput("siteUrl") as pulumi.Output<string>;
const appHosts = fleet.requireOutput("appHosts") as pulumi.Output<string[]>;
const database = fleet.requireOutput("database") as pulumi.Output<DatabaseOutput>;

export const monitoringConfig = pulumi.all([siteUrl, appHosts, database]).apply(([url, apps, db]) =>
  renderMonitoring({ siteUrl: url, appHosts: apps, appPort: cfg.getNumber("appPort") ?? 8000, database: db }));
/** Credentials stay secret across the stack boundary. */
export const brokerUrl = fleet.requireOutput("brokerUrl");
