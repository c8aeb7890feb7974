/**
 * plan/order.ts: each host's stages, what they wait for, and the waves a plain tool runs
 * them in, for the fleets of the plan's tables. A wave is written `host:stage+stage` per
 * run, its runs side by side.
 */
import { describe, expect, it } from "vitest";
import { host, planOf, shop, target } from "../helpers/planFleet.ts";
import { nodeKey, planOrder, wavesOf, type FleetOrder, type HostRun } from "../../plan/order.ts";

const short = (waves: readonly (readonly HostRun[])[]) => waves.map((w) => w.map((r) => `${r.host}:${r.stages.join("+")}`).join(" "));

/** What the benchmark's peers run together: a host's code and what waits for it. */
const CODE: Parameters<typeof wavesOf>[1] = ["build", "switch", "consumers"];

/** Every wait the order holds is kept by the waves: what a stage waits for runs in an earlier wave, or earlier in the same host's run. */
function wavesKeepOrder(o: FleetOrder, waves: readonly (readonly HostRun[])[]): string[] {
  const at = new Map<string, [number, number]>();
  waves.forEach((w, n) => w.forEach((r) => r.stages.forEach((s, i) => at.set(nodeKey(r.host, s), [n, i]))));
  const broken: string[] = [];
  for (const [k, on] of o.after) {
    for (const d of on) {
      const [wk, ik] = at.get(k)!;
      const [wd, id] = at.get(d)!;
      const sameRun = wk === wd && k.split("/")[0] === d.split("/")[0];
      if (!(wd < wk || (sameRun && id < ik))) broken.push(`${k} after ${d}`);
    }
  }
  return broken;
}

// Two app hosts keep uploads in an object store.
const media = { storage: "s3", target: target("shop-media") };
const split = [
  host("lb", 1, ["loadBalancer"]), host("app1", 2, ["app"]), host("app2", 3, ["app"]), host("worker", 4, ["worker", "beat"]),
  host("db", 5, ["db"]), host("replica", 6, ["dbReplica"]), host("broker", 7, ["broker"]), host("logs", 8, ["logging"]),
];

describe("planOrder: waves per fleet", () => {
  const cases: Array<[string, Record<string, unknown>, string[], string[]]> = [
    ["one host with every role: one run", {}, ["web:baseline+services+build+switch+consumers"], ["web:baseline+services+build+switch+consumers"]],
    ["the benchmark's core host and app hosts: the log server signs the hosts' keys, app1 migrates before the others switch, nginx and Celery last",
      { hosts: [host("core", 1, ["loadBalancer", "worker", "beat", "db", "broker", "logging"]), host("app1", 2, ["app"]), host("app2", 3, ["app"])], media },
      ["core:baseline app1:baseline app2:baseline", "core:services+build", "app1:services+build+switch app2:services+build", "core:switch app2:switch", "core:consumers"],
      ["core:baseline app1:baseline app2:baseline", "core:services", "app1:services+build+switch app2:services", "app2:build+switch", "core:build+switch+consumers"]],
    ["a fleet split by role, with a replica: the log server before the other servers, the replica after its primary",
      { hosts: split, media },
      ["lb:baseline app1:baseline app2:baseline worker:baseline db:baseline replica:baseline broker:baseline logs:baseline", "logs:services",
        "lb:services app1:services app2:services worker:services db:services broker:services", "app1:build+switch app2:build worker:build replica:services",
        "app2:switch worker:switch", "lb:consumers worker:consumers"],
      ["lb:baseline app1:baseline app2:baseline worker:baseline db:baseline replica:baseline broker:baseline logs:baseline", "logs:services",
        "lb:services app1:services app2:services worker:services db:services broker:services", "app1:build+switch replica:services",
        "app2:build+switch", "worker:build+switch+consumers", "lb:consumers"]],
    ["two apps on one host and a load balancer that runs no code (static copies): its sites after the app host",
      { hosts: [host("lb", 1, ["loadBalancer"]), host("app", 2, ["app", "worker", "beat", "db", "broker"])], app: undefined,
        apps: [shop({ domains: ["shop.example"] }), shop({ name: "blog", port: 8001, redisPort: 6380, domains: ["blog.example"] })] },
      ["lb:baseline app:baseline+services+build+switch+consumers", "lb:consumers"], ["lb:baseline app:baseline+services+build+switch+consumers", "lb:consumers"]],
    ["no logging host: the code after the servers", { hosts: [host("web", 1, ["loadBalancer", "app", "worker", "beat"]), host("db", 2, ["db", "broker"])] },
      ["web:baseline db:baseline+services", "web:build+switch+consumers"], ["web:baseline db:baseline+services", "web:build+switch+consumers"]],
  ];
  for (const [name, over, free, grouped] of cases) {
    it(name, () => {
      const o = planOrder(planOf(over).plan);
      for (const [waves, want] of [[wavesOf(o), free], [wavesOf(o, CODE), grouped]] as const) {
        expect(wavesKeepOrder(o, waves)).toEqual([]);
        expect(short(waves)).toEqual(want);
        // Every stage of every host is in exactly one run.
        const runs = waves.flatMap((w) => w.flatMap((r) => r.stages.map((s) => nodeKey(r.host, s))));
        expect(runs.sort()).toEqual([...o.after.keys()].sort());
      }
      // The code stages share one run where the host has them.
      for (const w of wavesOf(o, CODE)) for (const r of w) {
        const code = r.stages.filter((s) => CODE.includes(s));
        if (code.length) expect(code).toEqual(o.stages.get(r.host)!.filter((s) => CODE.includes(s)));
      }
    });
  }
});

describe("planOrder: stages and waits", () => {
  const o = planOrder(planOf({ hosts: split, media }).plan);
  const waits = (k: string) => [...o.after.get(k)!].sort();

  it("a host gets services where it serves, ships logs or holds a replica; build and switch where an app's code runs; consumers where Celery or nginx does", () => {
    expect(Object.fromEntries(o.stages)).toEqual({
      lb: ["baseline", "services", "consumers"], app1: ["baseline", "services", "build", "switch"], app2: ["baseline", "services", "build", "switch"],
      worker: ["baseline", "services", "build", "switch", "consumers"],
      db: ["baseline", "services"], replica: ["baseline", "services"], broker: ["baseline", "services"], logs: ["baseline", "services"],
    });
  });

  it("the log server signs every host's key, and every host ships with its certificate", () => {
    expect(waits("logs/services")).toEqual(["app1/baseline", "app2/baseline", "broker/baseline", "db/baseline", "lb/baseline", "logs/baseline", "replica/baseline", "worker/baseline"]);
    expect(waits("db/services")).toEqual(["db/baseline", "logs/services"]);
  });

  it("a release waits for every server; a switch for the migration; the replica for its primary", () => {
    expect(waits("app2/build")).toEqual(["app2/services", "broker/services", "db/services", "logs/services"]);
    expect(waits("app2/switch")).toEqual(["app1/build", "app2/build"]);
    expect(waits("replica/services")).toEqual(["db/services", "logs/services", "replica/baseline"]);
  });

  it("the load balancer's site and Celery wait for every host of the app to switch", () => {
    expect(waits("lb/consumers")).toEqual(["app1/switch", "app2/switch", "lb/services", "worker/switch"]);
    expect(waits("worker/consumers")).toEqual(["app1/switch", "app2/switch", "worker/switch"]);
  });
});
