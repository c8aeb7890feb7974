/**
 * Two things the program does as soon as its config has passed the local checks, before
 * the preflight reads git and the hosts, because every `pulumi up` and `preview` waits
 * for them (dev stack, no-change `up`: 5.3 to 5.7 s with Node's compile cache alone, 4.2
 * to 4.3 s with these two as well; README "Benchmarks", bench/peers.ts):
 *
 * - It asks the engine to start the dynamic-provider plugin now. The engine starts it
 *   only when the first of our resources registers, after the preflight's git and SSH
 *   reads, and its start-up (a Node process loading @pulumi/pulumi, about 1 s here) was
 *   then the longest step on the critical path. The request is an invoke of a function
 *   the plugin does not have; the engine starts the plugin to answer it, and the "unknown
 *   function" answer is dropped. None of our resources is registered and nothing reaches
 *   a host. The engine does record its default provider for the plugin, with the stack's
 *   config (as it does at the first resource of every run), so the preflight calls this
 *   only once the config has passed every check made on this machine: a refused config
 *   leaves the state as it was. A problem found later, in the repository or on a host,
 *   is still refused before any resource, but the provider's record then holds the new
 *   config (Pulumi's own bookkeeping; no resource of ours changes).
 * - It turns off the source-map lookup Pulumi's Node runtime installs (source-map-support).
 *   Pulumi records a stack trace for every promise it makes, and mapping those was about
 *   0.3 s of CPU per run. Our TypeScript runs with its types stripped in place (Node's own
 *   type stripping keeps every line and column), so there is nothing to map for our code.
 *   Under vitest (unit tests import the program) its own stack mapping is left alone.
 */
import * as pulumi from "@pulumi/pulumi";

/** A function no provider has: asking for it makes the engine start the dynamic-provider plugin. */
export const WARM_UP_TOKEN = "pulumi-nodejs:dynamic:startPlugin";

/**
 * Starts the dynamic-provider plugin and drops the source-map lookups (see above).
 * @param env where VITEST is looked up. @default process.env
 */
export function startEarly(env: NodeJS.ProcessEnv = process.env): void {
  if (!env.VITEST) Reflect.deleteProperty(Error, "prepareStackTrace");
  void pulumi.runtime.invoke(WARM_UP_TOKEN, {}).catch(() => undefined);
}
