/** Part 4 of bench/peers.ts: one django-fleet stack grown by config to N app hosts, and the peers taking its hosts over. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertServing } from "./peers/assertServing.ts";
import { knownHostsLine } from "./peers/bash.ts";
import { renderPeerFleet } from "./peers/render.ts";
import type { Ctx } from "./peersContext.ts";
import { renderScaleTable, type Sample, type ScaleRow } from "./peersReport.ts";
import { ansibleRunner, bashFleetRunner, measure, pulumiUp, type Runner } from "./peersRunners.ts";
import { appHost, CORE, mediaTarget, scaleConfig, scaleHosts, stackSecrets, STACK_NAME } from "./peersStacks.ts";
import { say } from "./runInfo.ts";
import { freshObjectStore, type ObjectStore } from "../test/helpers/objectStore.ts";
import { ROOT, testStack, type TestStack } from "../test/helpers/pulumi.ts";
import { bootFleet, type Fleet } from "../test/helpers/testhosts.ts";

/** Part 4: one django-fleet stack grown from 1 to 4 to 8 app hosts; at each size, no-change runs of it and of the peers. */
export async function runScale(ctx: Ctx): Promise<ScaleRow[]> {
  const { opts, log } = ctx;
  const names = [CORE, ...Array.from({ length: Math.max(...opts.scale) }, (_, i) => appHost(i + 1))];
  say(`booting ${names.join(", ")} (Debian 13)`);
  const f = bootFleet(names);
  ctx.up.fleet = f;
  const s3 = await freshObjectStore();
  ctx.up.s3 = s3;
  await s3.createBucket("fleet-media");
  const t = await testStack(ROOT, `${STACK_NAME}-scale`);
  ctx.up.t = t;
  const core = f.inventory.hosts.find((h) => h.name === CORE)!;
  const up = (label: string, refresh = false): Promise<Sample> => measure("fleet", label, log, () => pulumiUp(t, `${STACK_NAME}-scale`, log, refresh));
  const rows: ScaleRow[] = [];
  for (const n of opts.scale) {
    await t.stack.setAllConfig(scaleConfig(n, s3));
    const grow = await up(`grow to ${n} app hosts`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    const nochange: Sample[] = [];
    const refresh: Sample[] = [];
    for (let i = 1; i <= opts.runs; i++) {
      nochange.push(await up(`${n} app hosts: no-change up (${i}/${opts.runs})`));
      refresh.push(await up(`${n} app hosts: no-change up --refresh (${i}/${opts.runs})`, true));
    }
    const peers = await scalePeers(ctx, { f, t, s3, n });
    rows.push({ n, hosts: n + 1, grow, nochange, refresh, peers });
  }
  console.log(`\n${renderScaleTable(rows)}\n`);
  return rows;
}

/**
 * Part 4's peers, on the hosts django-fleet has just provisioned (the issue allows hosts
 * provisioned once, the same for every tool): each renders the same fleet from the same
 * config and the stack's own secrets, takes the hosts over once (the bash peer writes its
 * migrate and collectstatic markers; what else either changes shows where its end state
 * differs from django-fleet's), then runs BENCH_RUNS no-change runs. The page is checked
 * after each tool.
 */
async function scalePeers(ctx: Ctx, o: { f: Fleet; t: TestStack; s3: ObjectStore; n: number }): Promise<ScaleRow["peers"]> {
  const { opts, log, work } = ctx;
  const inv = o.f.inventory;
  const hosts = scaleHosts(o.n).map((h) => {
    const x = inv.hosts.find((y) => y.name === h.name)!;
    return { ...h, address: x.address, hostKey: x.hostKey };
  });
  const deployed = (await o.t.stack.outputs()).deployedCommit?.value as string;
  const fleet = renderPeerFleet({
    hosts, commit: deployed, secrets: await stackSecrets(o.t), stackName: `${STACK_NAME}-scale`,
    media: { target: mediaTarget(o.s3), caPem: readFileSync(o.s3.caFile, "utf8") },
  });
  const knownHosts = join(work, "known_hosts-scale");
  writeFileSync(knownHosts, fleet.stacks.map((st) => knownHostsLine(st.host)).join(""));
  const core = inv.hosts.find((h) => h.name === CORE)!;
  const runners: Record<"ansible" | "bash", Runner> = {
    ansible: ansibleRunner(() => fleet, inv.privateKeyPath!, ctx.ansiblePlaybook, join(work, `ansible-scale-${o.n}`), log),
    bash: bashFleetRunner(fleet, inv.privateKeyPath!, knownHosts, log),
  };
  const out: NonNullable<ScaleRow["peers"]> = {};
  for (const tool of ["ansible", "bash"] as const) {
    const run = (label: string): Promise<Sample> => measure(tool, label, log, () => runners[tool].apply(2));
    const takeover = await run(`${o.n} app hosts: taking over django-fleet's hosts`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    const nochange: Sample[] = [];
    for (let i = 1; i <= opts.runs; i++) nochange.push(await run(`${o.n} app hosts: no-change run (${i}/${opts.runs})`));
    for (const x of nochange) if (x.changed !== "no changes") say(`${tool}: a no-change run changed something: ${x.changed}`);
    await assertServing({ url: `http://${core.address}/`, workerHost: CORE });
    out[tool] = { takeover, nochange };
  }
  return out;
}
