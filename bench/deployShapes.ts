/**
 * The deploy benchmark's shapes, picked by BENCH_SHAPE: everything bench/deploys.ts does
 * differently for the prod-like five hosts (issue 11, deployPlan.ts) and for one host
 * with every role (issue 25, oneHostPlan.ts). Pure: deploys.ts does the booting and the
 * ups, and asks its shape what to boot, what to set and how to word the report.
 */
import { APP_NODES, BENCH_HOSTS, benchConfig, deploySequence, STACK_NAME, type Broken, type Code, type ConfigValue, type DeploySettings, type DeployStep, type HostDef, type MediaStore, type ShapeName } from "./deployPlan.ts";
import { FIVE_HOST_TEXT, type ReportText } from "./deployReport.ts";
import type { DeployTimings, SwitchKind } from "./deployTimes.ts";
import { ONE_HOST, ONE_HOST_NODES, ONE_HOST_STACK, ONE_HOST_TEXT, oneHostConfig, oneHostSequence } from "./oneHostPlan.ts";

export interface DeployShape {
  readonly name: ShapeName;
  /** The hosts to boot, in order. */
  readonly hosts: readonly HostDef[];
  /** The hosts whose switches the report times (columns `<node> switch s`). */
  readonly appNodes: readonly string[];
  readonly stackName: string;
  /** The report's path inside the checkout; each shape has its own, so one run never overwrites the other's. */
  readonly resultsFile: string;
  /** Whether the config needs the test object store (uploads shared by several app nodes). */
  readonly mediaStore: boolean;
  /** The host the load goes to (its nginx). */
  readonly siteHost: string;
  /** The URL the load requests, given siteHost's address. */
  siteUrl(address: string): string;
  /** How each request of the load connects, for the report. */
  readonly connection: string;
  sequence(broken: Broken): DeployStep[];
  /** The stack config for one step; `media` is required when mediaStore is. */
  config(o: { readonly step: DeployStep; readonly inventoryFile: string; readonly media?: MediaStore; readonly settings: DeploySettings }): Record<string, ConfigValue>;
  /** Which resources are a node's switch for each code. */
  switchKind(code: Code): SwitchKind;
  /** The settings line of the report. */
  describeSettings(s: DeploySettings): string;
  /** Remarks on one up's timings for the report (e.g. the switch resources it expected and did not see). */
  notes(code: Code, t: Pick<DeployTimings, "switchTypes" | "switchSteps">): string[];
  readonly text: ReportText;
}

const FIVE_HOST: DeployShape = {
  name: "five-host",
  hosts: BENCH_HOSTS,
  appNodes: APP_NODES,
  stackName: STACK_NAME,
  resultsFile: "bench/results/deploys.md",
  mediaStore: true,
  siteHost: "lb",
  siteUrl: (address) => `https://${address}/`,
  connection: "a new TLS connection per request",
  sequence: deploySequence,
  config({ step, inventoryFile, media, settings }) {
    if (!media) throw new Error("the five-host shape needs the object store for its shared media");
    return benchConfig({ code: step.code, ref: step.ref, inventoryFile, media, settings });
  },
  switchKind: (code) => (code === "new" ? "releaseSwitch" : "gunicorn"),
  describeSettings: (s) => `healthCheck.path ${s.healthPath}, timeoutSeconds ${s.healthTimeoutSeconds}; deploy.batchSize ${s.batchSize}, drainSeconds ${s.drainSeconds}`,
  notes(code, t) {
    if (t.switchTypes.length > 0) return [];
    return [code === "new" ? "no ReleaseSwitch resource in this program (is issue 11 merged into this checkout?)" : "no gunicorn SystemdService seen"];
  },
  text: FIVE_HOST_TEXT,
};

const ONE_HOST_SHAPE: DeployShape = {
  name: "one-host",
  hosts: [ONE_HOST],
  appNodes: ONE_HOST_NODES,
  stackName: ONE_HOST_STACK,
  resultsFile: "bench/results/deploys-one-host.md",
  mediaStore: false,
  siteHost: ONE_HOST.name,
  // dev.test.ts's siteUrl: no TLS on the dev stack.
  siteUrl: (address) => `http://${address}/`,
  connection: "a new connection per request, plain HTTP",
  sequence: oneHostSequence,
  config: ({ step, inventoryFile, settings }) => oneHostConfig({ step, inventoryFile, settings }),
  // Both codes have the switch; before issue 25 the service restarted gunicorn for a unit-file change.
  switchKind: () => "restart",
  describeSettings: (s) => `healthCheck.path ${s.healthPath}, timeoutSeconds ${s.healthTimeoutSeconds}; one app node, so no deploy.* (never drained)`,
  notes(_code, t) {
    return [
      ...(t.switchTypes.some((x) => x.includes("ReleaseSwitch")) ? [] : ["no ReleaseSwitch resource seen (both codes should have one)"]),
      // Shows whether gunicorn was restarted by the service (outside the gate) or by the switch.
      ...(t.switchSteps.length ? [`switch steps: ${t.switchSteps.join(", ")}`] : []),
    ];
  },
  text: ONE_HOST_TEXT,
};

export const DEPLOY_SHAPES: Readonly<Record<ShapeName, DeployShape>> = { "five-host": FIVE_HOST, "one-host": ONE_HOST_SHAPE };
