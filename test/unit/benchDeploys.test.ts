/**
 * The pure parts of the deploy benchmark (bench/deploys.ts): per-node timings from engine
 * events, the stack config (valid for this checkout's schema and topology rules), the
 * sequence of deploys, its settings, the node probe, and the report.
 */
import { execFileSync } from "node:child_process";
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation/index.js";
import { describe, expect, it } from "vitest";
import { APP_NODES, BENCH_HOSTS, benchConfig, benchOptions, DEFAULT_DEPLOY_SETTINGS, deploySequence, describeNode, nodeProbeScript, OLD_COMMIT_DEFAULT, parseNodeProbe } from "../../bench/deployPlan.ts";
import { asExpected, renderReport, renderTable, switchCell, type DeployRow } from "../../bench/deployReport.ts";
import { deployRecorder, isSwitchResource, nodeOf, urnName } from "../../bench/deployTimes.ts";
import type { LoadResult } from "../../bench/load.ts";
import { parseConfig } from "../../config/load.ts";
import { buildTopology, type Inventory } from "../../config/topology.ts";

const KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const urn = (type: string, name: string, parent = "django-fleet:fleet:AppNode") => `urn:pulumi:e2e-bench-deploys::django-fleet::pulumi:pulumi:Stack$${parent}$${type}::${name}`;
const GUNICORN = "pulumi-nodejs:dynamic/fleet:SystemdService";
const SWITCH = "pulumi-nodejs:dynamic/fleet:ReleaseSwitch";
const SCRIPT = "pulumi-nodejs:dynamic/fleet:RemoteScript";

/** A scripted clock and event stream. */
function events() {
  let t = 0;
  let seq = 0;
  const out: Array<{ at: number; e: EngineEvent }> = [];
  const meta = (op: OpType, type: string, name: string) => ({ op, urn: urn(type, name), type, provider: "" });
  const push = (at: number, e: Omit<EngineEvent, "sequence" | "timestamp">) => out.push({ at, e: { sequence: seq++, timestamp: Math.floor(at / 1000), ...e } as EngineEvent });
  return {
    out,
    pre: (at: number, op: OpType, type: string, name: string) => push(at, { resourcePreEvent: { metadata: meta(op, type, name) } }),
    done: (at: number, op: OpType, type: string, name: string) => push(at, { resOutputsEvent: { metadata: meta(op, type, name) } }),
    failed: (at: number, op: OpType, type: string, name: string) => push(at, { resOpFailedEvent: { metadata: meta(op, type, name), status: 1, steps: 1 } }),
    diag: (at: number, message: string, name?: string) => push(at, { diagnosticEvent: { message, color: "never", severity: "error", ...(name ? { urn: urn(SWITCH, name) } : {}) } }),
    /** Feeds the events to `rec` with the clock at each event's time; `end` is the clock afterwards. */
    play(rec: { onEvent(e: EngineEvent): void }, end?: number) {
      for (const x of out) { t = x.at; rec.onEvent(x.e); }
      if (end !== undefined) t = end;
    },
    now: () => t,
  };
}

describe("deploy timings from engine events", () => {
  it("names resources by node, and picks the switch resources of each kind", () => {
    expect(urnName(urn(GUNICORN, "app1-fleetdemo-gunicorn"))).toBe("app1-fleetdemo-gunicorn");
    expect(nodeOf("app1-fleetdemo-gunicorn", ["app1", "app2"])).toBe("app1");
    expect(nodeOf("app2", ["app1", "app2"])).toBe("app2");
    expect(nodeOf("app10-fleetdemo-gunicorn", ["app1", "app2"])).toBeUndefined();
    expect(nodeOf("fleetdemo-switch-app2", ["app1", "app2"])).toBe("app2");
    expect(nodeOf("fleetdemo-app1-switch", ["app1", "app2"])).toBe("app1");
    expect(nodeOf("lb-site-fleetdemo", ["app1", "app2"])).toBeUndefined();
    expect(isSwitchResource("gunicorn", GUNICORN, "app1-fleetdemo-gunicorn")).toBe(true);
    expect(isSwitchResource("gunicorn", GUNICORN, "worker-fleetdemo-celery-worker")).toBe(false);
    expect(isSwitchResource("gunicorn", SWITCH, "app1-fleetdemo-switch")).toBe(false);
    expect(isSwitchResource("releaseSwitch", SWITCH, "app1-fleetdemo-switch")).toBe(true);
    expect(isSwitchResource("releaseSwitch", GUNICORN, "app1-fleetdemo-gunicorn")).toBe(false);
  });

  it("old code: the gunicorn reload is the switch; busy spans every change on the node", () => {
    const ev = events();
    ev.pre(1000, "update", SCRIPT, "app1-fleetdemo-checkout");
    ev.pre(1200, "update", SCRIPT, "app2-fleetdemo-checkout");
    ev.pre(1300, "same", SCRIPT, "app1-fleetdemo-unchanged");
    ev.done(9000, "update", SCRIPT, "app1-fleetdemo-checkout");
    ev.done(9400, "update", SCRIPT, "app2-fleetdemo-checkout");
    ev.pre(9500, "update", GUNICORN, "app1-fleetdemo-gunicorn");
    ev.pre(9600, "update", GUNICORN, "app2-fleetdemo-gunicorn");
    ev.done(10_700, "update", GUNICORN, "app1-fleetdemo-gunicorn");
    ev.done(11_000, "update", GUNICORN, "app2-fleetdemo-gunicorn");
    ev.pre(11_100, "update", "pulumi:pulumi:Stack", "django-fleet-e2e-bench-deploys");
    ev.pre(11_200, "update", GUNICORN, "lb-nginx");
    const rec = deployRecorder(APP_NODES, "gunicorn", ev.now);
    ev.play(rec);
    const r = rec.result();
    expect(r.nodes).toEqual([
      { node: "app1", status: "switched", switchSeconds: 1.2, busySeconds: 9.7, switchStartSeconds: 9.5 },
      { node: "app2", status: "switched", switchSeconds: 1.4, busySeconds: 9.8, switchStartSeconds: 9.6 },
    ]);
    expect(r.switchTypes).toEqual([GUNICORN]);
    expect(r.errors).toEqual([]);
    expect(r.failedResources).toEqual([]);
  });

  it("new code: a failed gate on app1 stops the rollout before app2", () => {
    const ev = events();
    ev.pre(2000, "update", SWITCH, "app1-fleetdemo-switch");
    ev.diag(64_000, "error: app1: /healthz answered 500 for 60 s; switched back to 0123456789ab\njournal: ...", "app1-fleetdemo-switch");
    ev.failed(64_100, "update", SWITCH, "app1-fleetdemo-switch");
    ev.diag(64_200, "update failed");
    ev.pre(64_300, "same", SWITCH, "app2-fleetdemo-switch");
    const rec = deployRecorder(APP_NODES, "releaseSwitch", ev.now);
    ev.play(rec);
    const r = rec.result();
    expect(r.nodes).toEqual([
      { node: "app1", status: "failed", switchSeconds: 62.1, busySeconds: 62.1, switchStartSeconds: 2 },
      { node: "app2", status: "unchanged", switchSeconds: null, busySeconds: null, switchStartSeconds: null },
    ]);
    expect(r.errors).toEqual(["app1-fleetdemo-switch: error: app1: /healthz answered 500 for 60 s; switched back to 0123456789ab", "update failed"]);
    expect(r.failedResources).toEqual(["app1-fleetdemo-switch"]);
    expect(r.switchTypes).toEqual([SWITCH]);
  });

  it("a replacement counts from its first step to its last; a switch that never ended is unfinished", () => {
    const ev = events();
    ev.pre(0, "create-replacement", SWITCH, "app1-fleetdemo-switch");
    ev.done(3000, "create-replacement", SWITCH, "app1-fleetdemo-switch");
    ev.pre(3000, "replace", SWITCH, "app1-fleetdemo-switch");
    ev.done(3000, "replace", SWITCH, "app1-fleetdemo-switch");
    ev.pre(3100, "update", SWITCH, "app2-fleetdemo-switch");
    ev.pre(5000, "delete-replaced", SWITCH, "app1-fleetdemo-switch");
    ev.done(5500, "delete-replaced", SWITCH, "app1-fleetdemo-switch");
    const rec = deployRecorder(APP_NODES, "releaseSwitch", ev.now);
    ev.play(rec, 8100);
    const [a, b] = rec.result().nodes;
    expect(a).toMatchObject({ status: "switched", switchSeconds: 5.5 });
    expect(b).toMatchObject({ status: "unfinished", switchSeconds: 5 });
  });

  it("a program without switch resources of the kind says so (no types seen)", () => {
    const ev = events();
    ev.pre(0, "update", GUNICORN, "app1-fleetdemo-gunicorn");
    ev.done(100, "update", GUNICORN, "app1-fleetdemo-gunicorn");
    const rec = deployRecorder(APP_NODES, "releaseSwitch", ev.now);
    ev.play(rec);
    expect(rec.result().switchTypes).toEqual([]);
    expect(rec.result().nodes[0]).toMatchObject({ status: "unchanged", busySeconds: 0.1 });
  });

  it("keeps at most 10 errors of at most 300 characters", () => {
    const ev = events();
    for (let i = 0; i < 12; i++) ev.diag(i, `${"x".repeat(400)}`);
    const rec = deployRecorder(APP_NODES, "releaseSwitch", ev.now);
    ev.play(rec);
    const errs = rec.result().errors;
    expect(errs).toHaveLength(10);
    expect(errs[0]).toHaveLength(300);
    expect(errs[0]!.endsWith("...")).toBe(true);
  });
});

describe("the benchmark's stack config", () => {
  const media = { endpoint: "https://198.18.0.1:9000", caFile: "/run/django-fleet-s3serve/ca.crt", accessKeyId: "AKIDTEST", secretAccessKey: "secret/Test+Key" };
  const inventory: Inventory = {
    privateKeyPath: "/run/django-fleet-testhosts/id_ed25519",
    hosts: BENCH_HOSTS.map((h, i) => ({ name: h.name, address: `198.18.0.${10 + i}`, hostKey: KEY, user: "root" })),
  };
  const raw = (cfg: Record<string, { value: string }>) => Object.fromEntries(Object.entries(cfg).map(([k, v]) => [k, v.value]));

  it("the old code's config is valid for this checkout: two app nodes, media in S3, one beat", () => {
    const cfg = parseConfig(raw(benchConfig({ code: "old", ref: "v2", inventoryFile: "/run/x/hosts.json", media })));
    expect(cfg.app?.ref).toBe("v2");
    expect(cfg.app?.repo).toBe("git://198.18.0.1/fleetdemo.git");
    expect(cfg.media.storage).toBe("s3");
    expect(cfg.cache.kind).toBe("memcached");
    expect(cfg.broker.kind).toBe("rabbitmq");
    expect(cfg.loadBalancer.tls).toBe("selfSigned");
    const t = buildTopology(cfg, inventory);
    expect(t.hosts.filter((h) => h.roles.has("app")).map((h) => h.name)).toEqual(["app1", "app2"]);
  });

  it("the media credentials are secret config; only the new code gets healthCheck and deploy", () => {
    const old = benchConfig({ code: "old", ref: "main", inventoryFile: "/i", media });
    const neu = benchConfig({ code: "new", ref: "main", inventoryFile: "/i", media });
    expect(old["django-fleet:media"]!.secret).toBe(true);
    expect(Object.values(old).filter((v) => v.value.includes(media.secretAccessKey))).toHaveLength(1);
    expect(old["django-fleet:deploy"]).toBeUndefined();
    expect(JSON.parse(old["django-fleet:app"]!.value).healthCheck).toBeUndefined();
    expect(JSON.parse(neu["django-fleet:deploy"]!.value)).toEqual({ batchSize: 1, drainSeconds: 5 });
    expect(JSON.parse(neu["django-fleet:app"]!.value).healthCheck).toEqual({ path: "/healthz", timeoutSeconds: 60 });
    const custom = benchConfig({ code: "new", ref: "main", inventoryFile: "/i", media, settings: { ...DEFAULT_DEPLOY_SETTINGS, drainSeconds: 0.5 } });
    expect(JSON.parse(custom["django-fleet:deploy"]!.value)).toEqual({ batchSize: 1, drainSeconds: 0.5 });
  });

  it("the new code's config is valid for this checkout (issue 11's keys)", () => {
    const cfg = parseConfig(raw(benchConfig({ code: "new", ref: "unhealthy", inventoryFile: "/run/x/hosts.json", media }))) as unknown as {
      deploy: { batchSize: number; drainSeconds: number }; app: { healthCheck: { path: string; timeoutSeconds: number }; keepReleases: number };
    };
    expect(cfg.deploy).toMatchObject({ batchSize: 1, drainSeconds: 5 });
    expect(cfg.app.healthCheck).toMatchObject({ path: "/healthz", timeoutSeconds: 60 });
    expect(cfg.app.keepReleases).toBe(3);
  });
});

describe("the sequence and settings", () => {
  it("old code first (first build without load), then the new code from the same state, all later ones under load", () => {
    const seq = deploySequence("unhealthy");
    expect(seq.map((s) => `${s.code} ${s.from}->${s.ref} ${s.load ? "load" : "-"} ${s.expect}`)).toEqual([
      "old (bare hosts)->main - succeeds",
      "old main->v2 load succeeds",
      "old v2->unhealthy load either",
      "old unhealthy->main load succeeds",
      "new main->main load succeeds",
      "new main->v2 load succeeds",
      "new v2->unhealthy load fails",
      "new v2->main load succeeds",
    ]);
    expect(deploySequence("importError").map((s) => s.ref)).toContain("importerror");
  });

  it("reads BENCH_* variables, with defaults, and names a bad one", () => {
    const d = benchOptions({});
    expect(d).toMatchObject({ workers: 4, pauseMs: 100, timeoutMs: 10_000, leadSeconds: 3, tailSeconds: 5, broken: "importError", oldRef: OLD_COMMIT_DEFAULT, keep: false, takeHosts: false });
    expect(d.settings).toEqual(DEFAULT_DEPLOY_SETTINGS);
    const o = benchOptions({ BENCH_LOAD_WORKERS: "8", BENCH_BROKEN: "importerror", BENCH_KEEP: "1", BENCH_DRAIN_S: "2.5", BENCH_OLD_REF: "abcdef1234" });
    expect(o).toMatchObject({ workers: 8, broken: "importError", keep: true, oldRef: "abcdef1234" });
    expect(o.settings.drainSeconds).toBe(2.5);
    expect(() => benchOptions({ BENCH_LOAD_WORKERS: "0" })).toThrow(/BENCH_LOAD_WORKERS="0": must be an integer from 1 to 64/);
    expect(() => benchOptions({ BENCH_LOAD_PAUSE_MS: "fast" })).toThrow(/BENCH_LOAD_PAUSE_MS/);
    expect(() => benchOptions({ BENCH_BROKEN: "v2" })).toThrow(/BENCH_BROKEN="v2": must be unhealthy or importError/);
    expect(() => benchOptions({ BENCH_OLD_REF: "main; rm -rf /" })).toThrow(/BENCH_OLD_REF/);
  });
});

describe("the node probe", () => {
  it("reads the releases layout, the in-place checkout, and a bare host", () => {
    expect(parseNodeProbe("releases 0123456789ab 2\ngunicorn active\n")).toEqual({ layout: "releases", commit: "0123456789ab", kept: 2, gunicorn: "active" });
    expect(parseNodeProbe("in-place 0123456789ab\ngunicorn failed\n")).toEqual({ layout: "in-place", commit: "0123456789ab", kept: null, gunicorn: "failed" });
    expect(parseNodeProbe("none\ngunicorn inactive\n")).toEqual({ layout: "none", commit: "-", kept: null, gunicorn: "inactive" });
    expect(parseNodeProbe("")).toEqual({ layout: "unknown", commit: "?", kept: null, gunicorn: "?" });
    expect(describeNode(parseNodeProbe("releases 0123456789ab 3\ngunicorn active"), { "0123456789ab": "v2" })).toBe("v2 (releases, 3 kept, gunicorn active)");
    expect(describeNode(parseNodeProbe("in-place ffffffffffff\ngunicorn active"), {})).toBe("ffffffffffff (in-place, gunicorn active)");
  });

  it("the script runs under bash against both layouts", () => {
    const run = (setup: string) => execFileSync("bash", ["-c", `set -e; d=$(mktemp -d); trap 'rm -rf "$d"' EXIT; ${setup}; ${nodeProbeScript("app").replaceAll("/srv/app", "$d/srv/app")}`], { encoding: "utf8" });
    const rel = run('mkdir -p "$d/srv/app/releases/aaaaaaaaaaaa" "$d/srv/app/releases/bbbbbbbbbbbb"; ln -s "$d/srv/app/releases/bbbbbbbbbbbb" "$d/srv/app/current"');
    expect(parseNodeProbe(rel)).toMatchObject({ layout: "releases", commit: "bbbbbbbbbbbb", kept: 2 });
    const inPlace = run('mkdir -p "$d/srv/app/source"; git -C "$d/srv/app/source" init -q; git -C "$d/srv/app/source" -c user.name=t -c user.email=t@t commit -q --allow-empty -m x');
    expect(parseNodeProbe(inPlace)).toMatchObject({ layout: "in-place" });
    expect(parseNodeProbe(inPlace).commit).toMatch(/^[0-9a-f]{12}$/);
    expect(parseNodeProbe(run("true")).layout).toBe("none");
  });
});

describe("the report", () => {
  const load = (sent: number, failed: number, extra: Partial<LoadResult> = {}): LoadResult => ({
    sent, failed, p50Ms: 41.25, p99Ms: 1234.5, errorsSample: failed ? [`HTTP 502 x${failed}`] : [], outcomes: {}, firstFailureMs: failed ? 12_000 : null, lastFailureMs: failed ? 15_500 : null, durationMs: 60_000, ...extra,
  });
  const seq = deploySequence("unhealthy");
  const rows: DeployRow[] = [
    { step: seq[0]!, result: "succeeded", upSeconds: 612.34, load: null, nodes: [{ node: "app1", status: "switched", switchSeconds: 0.8, busySeconds: 300, switchStartSeconds: 500 }, { node: "app2", status: "switched", switchSeconds: 0.9, busySeconds: 301, switchStartSeconds: 500 }], errors: [], nodesAfter: { app1: "main (in-place, gunicorn active)", app2: "main (in-place, gunicorn active)" }, siteAfter: "release v2 on 0/6 pages; 200 x6; served by app1 app2" },
    { step: seq[2]!, result: "succeeded", upSeconds: 95, load: load(800, 37), nodes: [{ node: "app1", status: "switched", switchSeconds: 1.2, busySeconds: 80, switchStartSeconds: 85 }, { node: "app2", status: "switched", switchSeconds: 1.1, busySeconds: 79, switchStartSeconds: 85 }], errors: [], nodesAfter: {}, siteAfter: "-" },
    { step: seq[6]!, result: "failed", upSeconds: 88.8, load: load(900, 0), nodes: [{ node: "app1", status: "failed", switchSeconds: 67.4, busySeconds: 70, switchStartSeconds: 10 }, { node: "app2", status: "unchanged", switchSeconds: null, busySeconds: null, switchStartSeconds: null }], errors: ["app1-fleetdemo-switch: health check | failed"], nodesAfter: { app1: "v2 (releases, 3 kept, gunicorn active)" }, siteAfter: "release v2 on 6/6 pages" },
  ];

  it("one line per deploy, with the expected outcome checked and nodes' switches", () => {
    const table = renderTable(rows, APP_NODES);
    const lines = table.split("\n");
    expect(lines[0]).toBe("| code | deploy | up | up s | sent | failed | p50 ms | p99 ms | app1 switch s | app2 switch s |");
    expect(lines[1]).toBe("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    expect(lines[2]).toBe("| old (in place) | (bare hosts) -> main: first build | succeeded | 612.3 | no load | - | - | - | 0.8 | 0.9 |");
    expect(lines[3]).toBe("| old (in place) | v2 -> unhealthy: broken release, in place | succeeded | 95.0 | 800 | 37 | 41.3 | 1235 | 1.2 | 1.1 |");
    expect(lines[4]).toBe("| new (releases) | v2 -> unhealthy: broken release, health gate | failed | 88.8 | 900 | 0 | 41.3 | 1235 | failed 67.4 | - |");
    expect(renderTable([{ ...rows[2]!, result: "succeeded" }], APP_NODES)).toContain("| succeeded (unexpected) |");
  });

  it("switch cells and expectations", () => {
    expect(switchCell(undefined)).toBe("-");
    expect(switchCell({ node: "a", status: "unfinished", switchSeconds: 3, busySeconds: 3, switchStartSeconds: 0 })).toBe("unfinished 3.0");
    expect(asExpected({ step: seq[6]!, result: "failed" })).toBe(true);
    expect(asExpected({ step: seq[6]!, result: "succeeded" })).toBe(false);
    expect(asExpected({ step: seq[2]!, result: "failed" })).toBe(true);
    expect(asExpected({ step: seq[1]!, result: "failed" })).toBe(false);
  });

  it("the whole report: how it was run, the table, the details (pipes escaped), how it is measured", () => {
    const md = renderReport({
      date: "2026-12-02T00:00:00.000Z", machine: "m: 2 x cpu", command: "npm run bench -- deploys", oldCode: "0fc827d", newCode: "abc (bench11)",
      hosts: "lb, app1, app2, worker, db", load: "4 workers", broken: "unhealthy", settings: "drain 5", totalSeconds: 3000, status: "incomplete: stopped after 3 of 8 deploys",
    }, rows, APP_NODES);
    expect(md).toMatch(/^# Deploys under load/);
    for (const s of ["- date: 2026-12-02T00:00:00.000Z", "- machine: m: 2 x cpu", "- command: `npm run bench -- deploys`", "- whole run: 50.0 min", "- **incomplete: stopped after 3 of 8 deploys**", "## Details", "## How it is measured"]) {
      expect(md).toContain(s);
    }
    expect(md).toContain(renderTable(rows, APP_NODES));
    expect(md).toContain("HTTP 502 x37 (between 12.0 and 15.5 s of the load)");
    expect(md).toContain("app1-fleetdemo-switch: health check \\| failed");
    // Every table row has as many cells as its header.
    for (const table of md.split("\n\n").filter((b) => b.startsWith("|"))) {
      const counts = table.split("\n").map((l) => l.replace(/\\\|/g, "").split("|").length);
      expect(new Set(counts).size).toBe(1);
    }
  });
});
