/**
 * Glue between Pulumi's dynamic-provider machinery and our provider operations.
 *
 * Pulumi serializes a dynamic provider's methods into the state and runs them in its
 * plugin process. Ours are thin: each method imports the operations module by URL at
 * call time, so the serialized code captures one string and nothing else (no config, no
 * class instances, no module state), and the operations are plain, testable modules.
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * Bumped when a provider's state shape changes, so resources created by older code show
 * a diff instead of being silently read with the new code's assumptions.
 */
export const PROVIDER_SCHEMA = 1;

/**
 * A dynamic provider whose methods load the operations module when called: the one of
 * the project folder the command runs in (where Pulumi starts the provider plugin), else
 * the one at `opsUrl` (the checkout that wrote the resource). Pulumi keeps this code in
 * each resource's state and runs the stored copy for refresh and destroy, even after the
 * program changed; so the stored copy must not pin its own checkout, or a stack upgraded
 * from another folder would keep reading with the old code wherever that still exists.
 */
export function lazyProvider(opsUrl: string): pulumi.dynamic.ResourceProvider {
  const relative = opsUrl.slice(opsUrl.lastIndexOf("/providers/") + 1);
  // Everything below is serialized by Pulumi: it may only capture these two strings.
  const load = async () => {
    const here = `file://${process.cwd()}/${relative}`;
    try {
      return await import(here);
    } catch (e) {
      if (here === opsUrl) throw e;
      return import(opsUrl);
    }
  };
  return {
    async check(olds: any, news: any) {
      const ops = await load();
      return ops.check ? ops.check(olds, news) : { inputs: news };
    },
    async create(inputs: any) {
      const ops = await load();
      return ops.create(inputs);
    },
    async diff(id: string, olds: any, news: any) {
      const ops = await load();
      return ops.diff ? ops.diff(id, olds, news) : {};
    },
    async update(id: string, olds: any, news: any) {
      const ops = await load();
      return ops.update(id, olds, news);
    },
    async read(id: string, props: any) {
      const ops = await load();
      return ops.read ? ops.read(id, props) : { id, props };
    },
    async delete(id: string, props: any) {
      const ops = await load();
      if (ops.delete) await ops.delete(id, props);
    },
  };
}
