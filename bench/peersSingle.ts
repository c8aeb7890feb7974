/** Parts 1-3 of bench/peers.ts: the dev stack on one host per tool, first provision, no-change runs and a one-line change. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertServing } from "./peers/assertServing.ts";
import { knownHostsLine } from "./peers/bash.ts";
import type { PeerSecrets } from "./peers/inputs.ts";
import { renderPeerStack } from "./peers/render.ts";
import type { Ctx } from "./peersContext.ts";
import { misses, renderTable, type Row, type Sample, type Tool } from "./peersReport.ts";
import { ansibleRunner, bashRunner, fleetRunner, measure, type Runner } from "./peersRunners.ts";
import { HOST, STACK_NAME } from "./peersStacks.ts";
import { say } from "./runInfo.ts";
import { generate } from "../providers/randomSecret.ops.ts";
import { ROOT, testStack } from "../test/helpers/pulumi.ts";
import { bootFleet, type Fleet } from "../test/helpers/testhosts.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until gunicorn on `host` runs `workers` worker processes (the change is live). */
async function waitForWorkers(fleet: Fleet, host: string, workers: number, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let seen = "";
  while (Date.now() < until) {
    seen = (await fleet.ssh(host, "pid=$(systemctl show -p MainPID --value fleetdemo-gunicorn); pgrep -c -P \"$pid\" || true")).trim();
    if (seen === String(workers)) return;
    await sleep(500);
  }
  throw new Error(`${host}: gunicorn runs ${seen} workers, not ${workers}, ${timeoutMs / 1000} s after the change`);
}

/** Parts 1-3: three fresh hosts, one per tool, taking turns. */
export async function runSingle(ctx: Ctx): Promise<Row[]> {
  const { opts, log, work } = ctx;
  say(`booting ${Object.values(HOST).join(", ")} (Debian 13, one per tool)`);
  const f = bootFleet(Object.values(HOST));
  ctx.up.fleet = f;
  const inv = f.inventory;
  const hostOf = (tool: Tool) => {
    const h = inv.hosts.find((x) => x.name === HOST[tool]);
    if (!h) throw new Error(`no test host ${HOST[tool]}`);
    return { name: h.name, address: h.address, hostKey: h.hostKey };
  };
  const secrets: PeerSecrets = { djangoSecretKey: generate(50), dbPassword: generate(32), brokerPassword: generate(32) };
  const stackOf = (tool: Tool) => (workers: number) => renderPeerStack({ host: hostOf(tool), commit: f.commit, secrets, workers });
  const knownHosts = join(work, "known_hosts");
  writeFileSync(knownHosts, knownHostsLine(stackOf("bash")(2).host));

  const t = await testStack(ROOT, STACK_NAME);
  ctx.up.t = t;
  const fr = fleetRunner(t, log);
  const runners: Record<Tool, Runner> = {
    fleet: fr,
    ansible: ansibleRunner(stackOf("ansible"), inv.privateKeyPath!, ctx.ansiblePlaybook, join(work, "ansible"), log),
    bash: bashRunner(stackOf("bash"), inv.privateKeyPath!, knownHosts, log),
  };
  const urlOf = (tool: Tool) => `http://${hostOf(tool).address}/`;

  const rows: Row[] = [
    { id: "first", what: "1. first provision, bare host to serving page", samples: {}, target: { bash: 1.15 } },
    { id: "nochange", what: "2. no-change run (django-fleet: `up`)", samples: {}, target: { ansible: 0.1 } },
    { id: "refresh", what: "2. no-change run (django-fleet: `up --refresh`)", samples: {}, compareWith: "nochange", target: { ansible: 0.5 } },
    { id: "change", what: "3. one-line change: gunicorn workers 2 -> 3, live", samples: {}, target: { ansible: 0.5 } },
  ];
  const add = (id: string, tool: Tool, s: Sample) => {
    const row = rows.find((r) => r.id === id)!;
    (row.samples as Record<Tool, Sample[]>)[tool] = [...(row.samples[tool] ?? []), s];
  };
  const once = async (id: string, tool: Tool, workers: number, label: string, o: { refresh?: boolean } = {}) => {
    add(id, tool, await measure(tool, label, log, () => runners[tool].apply(workers, o)));
    await waitForWorkers(f, HOST[tool], workers);
    const seen = await assertServing({ url: urlOf(tool), workerHost: HOST[tool] });
    log(`\n${tool}: serving, the page showed the task after ${(seen.waitedMs / 1000).toFixed(1)} s more\n`);
  };

  await fr.configure(2);
  for (const tool of ["fleet", "ansible", "bash"] as const) await once("first", tool, 2, "first provision");
  for (let i = 1; i <= opts.runs; i++) {
    await once("nochange", "fleet", 2, `no-change up (${i}/${opts.runs})`);
    await once("refresh", "fleet", 2, `no-change up --refresh (${i}/${opts.runs})`, { refresh: true });
    await once("nochange", "ansible", 2, `no-change run (${i}/${opts.runs})`);
    await once("nochange", "bash", 2, `no-change run (${i}/${opts.runs})`);
  }
  let workers = 2;
  for (let i = 1; i <= opts.runs; i++) {
    const next = workers === 2 ? 3 : 2;
    await fr.configure(next);
    for (const tool of ["fleet", "ansible", "bash"] as const) await once("change", tool, next, `workers ${workers} -> ${next} (${i}/${opts.runs})`);
    workers = next;
  }
  console.log(`\n${renderTable(rows)}\n`);
  for (const m of misses(rows)) say(`missed: ${m}`);
  return rows;
}
