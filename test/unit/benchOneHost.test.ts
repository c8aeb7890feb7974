/**
 * The deploy benchmark's one-host shape (BENCH_SHAPE=one-host; bench/oneHostPlan.ts and
 * bench/deployShapes.ts): picking the shape, its config (valid for this checkout), its
 * sequence, finding the only node's switch resources, and the report's words. The
 * five-host shape's own tests are in benchDeploys.test.ts.
 */
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { benchOptions, DEFAULT_DEPLOY_SETTINGS, OLD_COMMIT_DEFAULT, type DeployStep } from "../../bench/deployPlan.ts";
import { renderReport, renderTable, type DeployRow } from "../../bench/deployReport.ts";
import { DEPLOY_SHAPES } from "../../bench/deployShapes.ts";
import { deployRecorder, isSwitchResource, nodeOf } from "../../bench/deployTimes.ts";
import { CHANGED_TIMEOUT_SECONDS, EXTRA_ENV, ONE_HOST, ONE_HOST_NODES, ONE_HOST_TEXT, oneHostConfig, oneHostSequence } from "../../bench/oneHostPlan.ts";
import { parseConfig } from "../../config/load.ts";
import { buildTopology, type Inventory } from "../../config/topology.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const SWITCH = "pulumi-nodejs:dynamic/fleet:ReleaseSwitch";
const SERVICE = "pulumi-nodejs:dynamic/fleet:SystemdService";
const FILE = "pulumi-nodejs:dynamic/fleet:RemoteFile";
const SCRIPT = "pulumi-nodejs:dynamic/fleet:RemoteScript";
const N = ONE_HOST.name;

describe("BENCH_SHAPE", () => {
  it.each([
    [{}, "five-host", OLD_COMMIT_DEFAULT],
    [{ BENCH_SHAPE: "" }, "five-host", OLD_COMMIT_DEFAULT],
    [{ BENCH_SHAPE: "five-host" }, "five-host", OLD_COMMIT_DEFAULT],
    [{ BENCH_SHAPE: "one-host" }, "one-host", "a04b26b"],
    [{ BENCH_SHAPE: " One-Host " }, "one-host", "a04b26b"],
    [{ BENCH_SHAPE: "one-host", BENCH_OLD_REF: "0123abcd" }, "one-host", "0123abcd"],
  ] as const)("%j -> %s, old code %s", (env, shape, oldRef) => {
    expect(benchOptions(env)).toMatchObject({ shape, oldRef });
  });

  it.each(["two-host", "onehost", "1"])("refuses %j, naming the variable and the choices", (v) => {
    expect(() => benchOptions({ BENCH_SHAPE: v })).toThrow(/BENCH_SHAPE=".*": must be five-host or one-host/);
  });
});

describe("the shapes", () => {
  it.each([
    ["five-host", "bench/results/deploys.md", "e2e-bench-deploys", ["lb", "app1", "app2", "worker", "db"], ["app1", "app2"], true, "lb", "https://198.18.0.10/", "gunicorn", "releaseSwitch"],
    ["one-host", "bench/results/deploys-one-host.md", "e2e-bench-deploys-one-host", [N], [N], false, N, "http://198.18.0.10/", "restart", "restart"],
  ] as const)("%s: report %s, stack %s", (name, results, stack, hosts, nodes, media, siteHost, url, oldKind, newKind) => {
    const s = DEPLOY_SHAPES[name];
    expect(s.name).toBe(name);
    expect(s.resultsFile).toBe(results);
    expect(s.stackName).toBe(stack);
    expect(s.stackName).toMatch(/^e2e-/); // .gitignore's Pulumi.e2e-*.yaml
    expect(s.hosts.map((h) => h.name)).toEqual(hosts);
    expect(s.appNodes).toEqual(nodes);
    expect(s.mediaStore).toBe(media);
    expect(s.siteHost).toBe(siteHost);
    expect(s.siteUrl("198.18.0.10")).toBe(url);
    expect([s.switchKind("old"), s.switchKind("new")]).toEqual([oldKind, newKind]);
  });

  it("the five-host shape asks for the object store; the one-host one needs none", () => {
    const step = oneHostSequence("importError")[1]!;
    expect(() => DEPLOY_SHAPES["five-host"].config({ step, inventoryFile: "/i", settings: DEFAULT_DEPLOY_SETTINGS })).toThrow(/object store/);
    expect(Object.keys(DEPLOY_SHAPES["one-host"].config({ step, inventoryFile: "/i", settings: DEFAULT_DEPLOY_SETTINGS }))).not.toContain("django-fleet:media");
  });

  it.each([
    ["five-host", "new", [], [], ["no ReleaseSwitch resource in this program (is issue 11 merged into this checkout?)"]],
    ["five-host", "old", [SERVICE], ["update app1-fleetdemo-gunicorn"], []],
    ["one-host", "old", [SWITCH, SERVICE], [], []],
    ["one-host", "new", [SERVICE], ["update fleet-one-fleetdemo-gunicorn"], ["no ReleaseSwitch resource seen (both codes should have one)", "switch steps: update fleet-one-fleetdemo-gunicorn"]],
    ["one-host", "old", [SWITCH, SERVICE], ["update fleet-one-fleetdemo-gunicorn", "update fleet-one-fleetdemo-release"], ["switch steps: update fleet-one-fleetdemo-gunicorn, update fleet-one-fleetdemo-release"]],
  ] as const)("%s, %s code, types %j, steps %j: notes %j", (name, code, switchTypes, switchSteps, notes) => {
    expect(DEPLOY_SHAPES[name].notes(code, { switchTypes: [...switchTypes], switchSteps: [...switchSteps] })).toEqual(notes);
  });

  it("settings lines: the five-host one as before; one-host has no deploy.*", () => {
    expect(DEPLOY_SHAPES["five-host"].describeSettings(DEFAULT_DEPLOY_SETTINGS)).toBe("healthCheck.path /healthz, timeoutSeconds 60; deploy.batchSize 1, drainSeconds 5");
    expect(DEPLOY_SHAPES["one-host"].describeSettings(DEFAULT_DEPLOY_SETTINGS)).toBe("healthCheck.path /healthz, timeoutSeconds 60; one app node, so no deploy.* (never drained)");
  });
});

describe("the one-host sequence", () => {
  const row = (s: DeployStep) => [s.code, `${s.from} -> ${s.ref}`, s.load ? "load" : "-", s.expect, s.env ? Object.keys(s.env).join(",") : "-", s.gunicornTimeoutSeconds ?? "-"].join(" | ");
  it("the old code's first build, then the same five deploys under load for each code, the new code starting with its upgrade", () => {
    expect(oneHostSequence("importError").map(row)).toEqual([
      "old | (bare host) -> main | - | succeeds | - | -",
      "old | main -> v2 | load | succeeds | - | -",
      "old | v2 -> v2 | load | succeeds | FLEET_ZERO_DOWNTIME | -",
      `old | v2 -> v2 | load | succeeds | FLEET_ZERO_DOWNTIME | ${CHANGED_TIMEOUT_SECONDS}`,
      `old | v2 -> importerror | load | fails | FLEET_ZERO_DOWNTIME | ${CHANGED_TIMEOUT_SECONDS}`,
      "old | v2 -> main | load | succeeds | - | -",
      "new | main -> main | load | succeeds | - | -",
      "new | main -> v2 | load | succeeds | - | -",
      "new | v2 -> v2 | load | succeeds | FLEET_ZERO_DOWNTIME | -",
      `new | v2 -> v2 | load | succeeds | FLEET_ZERO_DOWNTIME | ${CHANGED_TIMEOUT_SECONDS}`,
      `new | v2 -> importerror | load | fails | FLEET_ZERO_DOWNTIME | ${CHANGED_TIMEOUT_SECONDS}`,
      "new | v2 -> main | load | succeeds | - | -",
    ]);
    expect(oneHostSequence("unhealthy").map((s) => s.ref)).toContain("unhealthy");
  });

  it("old and new rows are the same deploys, so they pair up in the report", () => {
    const seq = oneHostSequence("importError");
    const strip = (s: DeployStep) => ({ ...s, code: "-" });
    expect(seq.filter((s) => s.code === "old").slice(1).map(strip)).toEqual(seq.filter((s) => s.code === "new").slice(1).map(strip));
  });
});

describe("the one-host stack config", () => {
  const inventory: Inventory = { privateKeyPath: "/run/django-fleet-testhosts/id_ed25519", hosts: [{ name: N, address: "198.18.0.10", hostKey: KEY, user: "root" }] };
  const raw = (cfg: Record<string, { value: string }>) => Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, v.value]));
  const parsed = (step: DeployStep) => parseConfig(raw(oneHostConfig({ step, inventoryFile: "/run/x/hosts.json" }))) as unknown as {
    app: { ref: string; env: Record<string, string>; gunicorn: { workers: number; timeoutSeconds: number }; healthCheck: { path: string; timeoutSeconds: number } };
    broker: { kind: string }; cache: { kind: string }; media: { storage: string }; loadBalancer: { tls: string };
  };

  it.each(oneHostSequence("importError").map((s, i) => [i, s] as const))("step %i is valid for this checkout, with its ref, env and gunicorn timeout", (_i, step) => {
    const cfg = parsed(step);
    expect(cfg.app.ref).toBe(step.ref);
    expect(cfg.app.env).toEqual(step.env ?? {});
    expect(cfg.app.gunicorn).toMatchObject({ workers: 2, timeoutSeconds: step.gunicornTimeoutSeconds ?? 30 });
    expect(cfg.app.healthCheck).toMatchObject({ path: "/healthz", timeoutSeconds: 60 });
    expect(cfg.broker.kind).toBe("rabbitmq");
    expect(cfg.cache.kind).toBe("none");
    expect(cfg.media.storage).toBe("local");
    expect(cfg.loadBalancer.tls).toBe("none");
    const t = buildTopology(parseConfig(raw(oneHostConfig({ step, inventoryFile: "/i" }))), inventory);
    expect(t.hosts.map((h) => [h.name, [...h.roles].sort()])).toEqual([[N, ["app", "beat", "broker", "db", "loadBalancer", "logging", "worker"]]]);
  });

  it("dev.test.ts's keys; the health check from the settings; no deploy.*, no media, no secrets", () => {
    const cfg = oneHostConfig({ step: { ref: "v2", env: EXTRA_ENV, gunicornTimeoutSeconds: 31 }, inventoryFile: "/i", settings: { ...DEFAULT_DEPLOY_SETTINGS, healthTimeoutSeconds: 15 } });
    expect(Object.keys(cfg).sort()).toEqual(["django-fleet:app", "django-fleet:broker", "django-fleet:hosts", "django-fleet:inventoryFile"]);
    expect(Object.values(cfg).some((v) => v.secret)).toBe(false);
    expect(JSON.parse(cfg["django-fleet:app"]!.value)).toEqual({
      name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", ref: "v2",
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      gunicorn: { workers: 2, timeoutSeconds: 31 }, healthCheck: { path: "/healthz", timeoutSeconds: 15 }, env: { FLEET_ZERO_DOWNTIME: "1" },
    });
  });
});

describe("the only node's resources", () => {
  // Named as the program names them for host fleet-one (dev.test.ts: fleet-e2e-fleetdemo-gunicorn, -release, -gunicorn-unit).
  it.each([
    [SWITCH, `${N}-fleetdemo-release`, N, true],
    [SERVICE, `${N}-fleetdemo-gunicorn`, N, true],
    [FILE, `${N}-fleetdemo-gunicorn-unit`, N, false],
    [SCRIPT, `${N}-fleetdemo-gunicorn-socket`, N, false],
    [SERVICE, `${N}-fleetdemo-celery-worker`, N, false],
    [SERVICE, `${N}-nginx`, N, false],
    [SERVICE, "broker-service", undefined, false],
    [SCRIPT, "fleetdemo-migrate", undefined, false],
  ] as const)("%s %s: node %s, a restart of gunicorn: %s", (type, name, node, restart) => {
    expect(nodeOf(name, ONE_HOST_NODES)).toBe(node);
    expect(isSwitchResource("restart", type, name)).toBe(restart);
  });

  it("a unit-file change before issue 25: the service restarts gunicorn, then the switch; both are the switch span, in order", () => {
    let t = 0;
    const urn = (type: string, name: string) => `urn:pulumi:e2e-bench-deploys-one-host::django-fleet::pulumi:pulumi:Stack$django-fleet:fleet:AppNode$${type}::${name}`;
    const ev = (kind: "resourcePreEvent" | "resOutputsEvent", op: OpType, type: string, name: string) => ({ sequence: 0, timestamp: 0, [kind]: { metadata: { op, urn: urn(type, name), type, provider: "" } } }) as EngineEvent;
    const rec = deployRecorder(ONE_HOST_NODES, "restart", () => t);
    const play: Array<[number, EngineEvent]> = [
      [1000, ev("resourcePreEvent", "update", FILE, `${N}-fleetdemo-gunicorn-unit`)],
      [1500, ev("resOutputsEvent", "update", FILE, `${N}-fleetdemo-gunicorn-unit`)],
      [1600, ev("resourcePreEvent", "update", SERVICE, `${N}-fleetdemo-gunicorn`)],
      [3600, ev("resOutputsEvent", "update", SERVICE, `${N}-fleetdemo-gunicorn`)],
      [3700, ev("resourcePreEvent", "update", SWITCH, `${N}-fleetdemo-release`)],
      [3800, ev("resourcePreEvent", "same", SERVICE, `${N}-fleetdemo-celery-worker`)],
      [6700, ev("resOutputsEvent", "update", SWITCH, `${N}-fleetdemo-release`)],
    ];
    for (const [at, e] of play) { t = at; rec.onEvent(e); }
    const r = rec.result();
    expect(r.nodes).toEqual([{ node: N, status: "switched", switchSeconds: 5.1, busySeconds: 5.7, switchStartSeconds: 1.6 }]);
    expect(r.switchSteps).toEqual([`update ${N}-fleetdemo-gunicorn`, `update ${N}-fleetdemo-release`]);
    expect(r.switchTypes).toEqual([SWITCH, SERVICE]);
  });
});

describe("the one-host report", () => {
  const seq = oneHostSequence("importError");
  const load = { sent: 900, failed: 12, p50Ms: 30, p99Ms: 1500, errorsSample: ["HTTP 502 x12"], outcomes: {}, firstFailureMs: 4000, lastFailureMs: 5500, durationMs: 40_000 };
  const rows: DeployRow[] = [
    { step: seq[1]!, result: "succeeded", upSeconds: 40, load, nodes: [{ node: N, status: "switched", switchSeconds: 6, busySeconds: 30, switchStartSeconds: 20 }], errors: [], nodesAfter: { [N]: "v2 (releases, 2 kept, gunicorn active)" }, siteAfter: "release v2 on 6/6 pages", note: `switch steps: update ${N}-fleetdemo-release` },
    { step: seq[7]!, result: "succeeded", upSeconds: 45, load: { ...load, failed: 0, errorsSample: [], firstFailureMs: null, lastFailureMs: null }, nodes: [{ node: N, status: "switched", switchSeconds: 8, busySeconds: 30, switchStartSeconds: 20 }], errors: [], nodesAfter: {}, siteAfter: "-" },
  ];

  it("names the codes by what they do on the only node, with one switch column", () => {
    const lines = renderTable(rows, ONE_HOST_NODES, ONE_HOST_TEXT.code).split("\n");
    expect(lines[0]).toBe(`| code | deploy | up | up s | sent | failed | p50 ms | p99 ms | ${N} switch s |`);
    expect(lines[2]).toBe("| before (restart in place) | main -> v2: new release | succeeded | 40.0 | 900 | 12 | 30.0 | 1500 | 6.0 |");
    expect(lines[3]).toBe("| after (socket, side gate) | main -> v2: new release | succeeded | 45.0 | 900 | 0 | 30.0 | 1500 | 8.0 |");
  });

  it("its own title and measurement notes; the switch steps in the details", () => {
    const md = renderReport({
      date: "d", machine: "m", command: "BENCH_SHAPE=one-host npm run bench -- deploys", oldCode: "a04b26b", newCode: "abc", hosts: N, load: "4 workers", broken: "importError", settings: "s", totalSeconds: 600,
    }, rows, ONE_HOST_NODES, ONE_HOST_TEXT);
    expect(md.split("\n")[0]).toBe(`# ${ONE_HOST_TEXT.title}`);
    expect(md).toContain("http://<host>/");
    expect(md).not.toContain("https://<lb>/");
    expect(md).toContain(`switch steps: update ${N}-fleetdemo-release`);
    for (const table of md.split("\n\n").filter((b) => b.startsWith("|"))) {
      const counts = table.split("\n").map((l) => l.replace(/\\\|/g, "").split("|").length);
      expect(new Set(counts).size).toBe(1);
    }
  });
});
