/**
 * What bench/peers.ts makes its stacks of: the stacks' and hosts' names, the stack config
 * of parts 1-3 (the dev stack) and part 4 (a core host and N app hosts), and the secrets
 * a stack generated, which the peers render with.
 */
import type { Role } from "../config/schema.ts";
import type { PeerSecrets } from "./peers/inputs.ts";
import { devStackConfig, fleetStackConfig } from "./peers/sampleApp.ts";
import type { Tool } from "./peersReport.ts";
import type { ObjectStore } from "../test/helpers/objectStore.ts";
import type { TestStack } from "../test/helpers/pulumi.ts";
import { INVENTORY } from "../test/helpers/testhosts.ts";

export const STACK_NAME = "bench-peers";
export const HOST: Readonly<Record<Tool, string>> = { fleet: "peer-fleet", ansible: "peer-ansible", bash: "peer-bash" };
/** Part 4: the core host and the app hosts the fleet grows through. */
export const CORE = "core";
export const appHost = (i: number) => `app${i}`;

/** The dev stack's raw config for `hostName`, as the Automation API sets it, with the test inventory. */
export function devConfigValues(o: { hostName: string; workers?: number }): Record<string, { value: string }> {
  return {
    "django-fleet:inventoryFile": { value: INVENTORY },
    ...Object.fromEntries(Object.entries(devStackConfig(o)).map(([k, v]) => [k, { value: v }])),
  };
}

/** Part 4's hosts: a core host with every role but app, and `n` app hosts. */
export function scaleHosts(n: number): Array<{ name: string; roles: Role[] }> {
  return [
    { name: CORE, roles: ["loadBalancer", "worker", "beat", "db", "broker", "logging"] },
    ...Array.from({ length: n }, (_, i) => ({ name: appHost(i + 1), roles: ["app"] as Role[] })),
  ];
}

/** Uploads in the test object store: `media.target` as the stack config gives it. */
export function mediaTarget(s3: ObjectStore): Record<string, unknown> {
  return { endpoint: s3.endpoint, bucket: "fleet-media", pathStyle: true, caFile: s3.caFile, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey };
}

/**
 * Part 4's stack config: the dev stack's app and broker on a core host and `n` app hosts,
 * uploads in the test object store (the config refuses local media on several app hosts;
 * it is set from the first N on, so growing changes only `hosts`). The peers render the
 * same config (render.ts fleetStackConfig).
 */
export function scaleConfig(n: number, s3: ObjectStore): Record<string, { value: string; secret?: boolean }> {
  const raw = fleetStackConfig({ hosts: scaleHosts(n), media: { target: mediaTarget(s3) } });
  return {
    "django-fleet:inventoryFile": { value: INVENTORY },
    ...Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, { value: v, ...(k === "django-fleet:media" ? { secret: true } : {}) }])),
  };
}

/** The stack's generated secrets (its RandomSecret resources), read from its state. */
export async function stackSecrets(t: TestStack): Promise<PeerSecrets> {
  const resources = ((await t.stack.exportStack()).deployment.resources ?? []) as Array<{ type: string; urn: string; outputs?: Record<string, unknown> }>;
  const value = (name: string): string => {
    const r = resources.find((x) => x.type === "pulumi-nodejs:dynamic/fleet:RandomSecret" && x.urn.endsWith(`::${name}`));
    const v = r?.outputs?.value;
    const plain = typeof v === "object" && v !== null && "plaintext" in v ? JSON.parse(String((v as { plaintext: string }).plaintext)) : v;
    if (typeof plain !== "string" || !plain) throw new Error(`no value of the stack's secret ${name} in its state`);
    return plain;
  };
  return { djangoSecretKey: value("fleetdemo-django-secret-key"), dbPassword: value("fleetdemo-db-password"), brokerPassword: value("fleetdemo-broker-password") };
}
