import { describe, expect, it } from "vitest";
import { factsProblems } from "../../config/factsRules.ts";
import type { PythonProject } from "../../config/pythonProject.ts";
import { pinnedFacts, type HostFacts, type ReleaseId } from "../../config/releases.ts";
import type { Role } from "../../config/schema.ts";
import type { HostPlan, Topology } from "../../config/topology.ts";

function host(name: string, address: string, ...roles: Role[]): HostPlan {
  return { name, address, privateAddress: address, port: 22, user: "root", hostKey: "ssh-ed25519 AAAA", roles: new Set(roles) };
}

const web = host("web", "10.0.0.2", "loadBalancer", "app", "worker", "beat");
const db = host("db", "10.0.0.3", "db", "broker");
const replica = host("replica", "10.0.0.4", "dbReplica");

/** A fleet of a code host, a primary and one replica. */
const TOPO: Topology = {
  deployments: [],
  hosts: [web, db, replica],
  loadBalancer: web,
  apps: [web],
  workers: [web],
  beat: web,
  db,
  dbReplicas: [replica],
  broker: db,
  logging: undefined,
  cache: undefined,
  codeHosts: [web],
  privateKeyPath: "/root/.ssh/id",
};

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function facts(releases: Record<string, ReleaseId>, python: Record<string, string> = {}): Map<string, HostFacts> {
  return new Map(Object.entries(releases).map(([name, id]) => {
    const f = pinnedFacts(id);
    return [name, python[name] ? { ...f, python: python[name]! } : f];
  }));
}

function project(spec: string | undefined, source = "pyproject.toml [project] requires-python"): PythonProject {
  return { method: "uv", reason: "uv.lock found", requireHashes: false, ...(spec === undefined ? {} : { requiresPython: { spec, source } }) };
}

const ALL_13 = facts({ web: "debian13", db: "debian13", replica: "debian13" });
const ALL_12 = facts({ web: "debian12", db: "debian12", replica: "debian12" });

describe("factsProblems", () => {
  it("is empty when the code hosts' Python satisfies requires-python", () => {
    expect(factsProblems(TOPO, ALL_13, project(">=3.12"), COMMIT, ["web"])).toEqual([]);
  });

  it("is empty when the project declares no Python", () => {
    expect(factsProblems(TOPO, ALL_12, project(undefined), COMMIT, ["web"])).toEqual([]);
  });

  it("names the host, both versions, the release that fits, and the fix on a mismatch", () => {
    expect(factsProblems(TOPO, ALL_12, project(">=3.12"), COMMIT, ["web"])).toEqual([
      "app.ref: the project at 0123456789ab requires Python \">=3.12\" (pyproject.toml [project] requires-python), " +
        "but host \"web\" runs Debian 12 (bookworm) with Python 3.11.2; nothing was installed. " +
        "Fix: run the app on hosts with Debian 13 (trixie), Python 3.13.5, or deploy a ref whose requires-python accepts Python 3.11.2",
    ]);
  });

  it("uses the Python read on the host, not the release's default", () => {
    const f = facts({ web: "debian13", db: "debian13", replica: "debian13" }, { web: "3.13.1" });
    expect(factsProblems(TOPO, f, project(">=3.13.2", ".python-version"), COMMIT, ["web"])).toEqual([
      "app.ref: the project at 0123456789ab requires Python \">=3.13.2\" (.python-version), " +
        "but host \"web\" runs Debian 13 (trixie) with Python 3.13.1; nothing was installed. " +
        "Fix: run the app on hosts with Debian 13 (trixie), Python 3.13.5, or deploy a ref whose requires-python accepts Python 3.13.1",
    ]);
  });

  it("lists every release that fits", () => {
    const f = facts({ web: "debian12", db: "debian12", replica: "debian12" }, { web: "3.10.0" });
    expect(factsProblems(TOPO, f, project(">=3.11"), COMMIT, ["web"])).toEqual([
      "app.ref: the project at 0123456789ab requires Python \">=3.11\" (pyproject.toml [project] requires-python), " +
        "but host \"web\" runs Debian 12 (bookworm) with Python 3.10.0; nothing was installed. " +
        "Fix: run the app on hosts with Debian 12 (bookworm), Python 3.11.2 or Debian 13 (trixie), Python 3.13.5, or deploy a ref whose requires-python accepts Python 3.10.0",
    ]);
  });

  it("says to relax requires-python when no release fits", () => {
    expect(factsProblems(TOPO, ALL_13, project(">=3.14"), COMMIT, ["web"])).toEqual([
      "app.ref: the project at 0123456789ab requires Python \">=3.14\" (pyproject.toml [project] requires-python), " +
        "but host \"web\" runs Debian 13 (trixie) with Python 3.13.5; nothing was installed. " +
        "Fix: relax requires-python, or deploy a ref whose requires-python accepts Python 3.13.5",
    ]);
  });

  it("reports each code host that does not fit, and only those", () => {
    const worker = host("worker", "10.0.0.5", "worker");
    const topo: Topology = { ...TOPO, hosts: [...TOPO.hosts, worker], workers: [worker], codeHosts: [web, worker] };
    const f = facts({ web: "debian13", worker: "debian12", db: "debian13", replica: "debian13" });
    const problems = factsProblems(topo, f, project("~=3.13"), COMMIT, ["web", "worker"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("host \"worker\" runs Debian 12 (bookworm) with Python 3.11.2");
    const all12 = facts({ web: "debian12", worker: "debian12", db: "debian12", replica: "debian12" });
    const both = factsProblems(topo, all12, project("~=3.13"), COMMIT, ["web", "worker"]);
    expect(both.map((p) => /host "(\w+)"/.exec(p)?.[1])).toEqual(["web", "worker"]);
  });

  it("does not check hosts that run no code", () => {
    // The database hosts run Debian 12, but only "web" runs the app's code.
    const f = facts({ web: "debian13", db: "debian12", replica: "debian12" });
    expect(factsProblems(TOPO, f, project(">=3.12"), COMMIT, ["web"])).toEqual([]);
  });

  it("reports an unreadable specifier once, with where it came from and the fix", () => {
    const worker = host("worker", "10.0.0.5", "worker");
    const topo: Topology = { ...TOPO, hosts: [...TOPO.hosts, worker], workers: [worker], codeHosts: [web, worker] };
    const f = facts({ web: "debian13", worker: "debian13", db: "debian13", replica: "debian13" });
    expect(factsProblems(topo, f, project(">=3.12,<=banana"), COMMIT, ["web", "worker"])).toEqual([
      "app.ref: pyproject.toml [project] requires-python at 0123456789ab: cannot read the Python version specifier \"<=banana\". " +
        "Fix: write it as PEP 440 specifiers, e.g. \">=3.12\"",
    ]);
  });

  it("reports a Poetry caret that reached it untranslated as unreadable", () => {
    expect(factsProblems(TOPO, ALL_13, project("^3.12", "pyproject.toml [tool.poetry.dependencies] python"), COMMIT, ["web"])).toEqual([
      "app.ref: pyproject.toml [tool.poetry.dependencies] python at 0123456789ab: cannot read the Python version specifier \"^3.12\". " +
        "Fix: write it as PEP 440 specifiers, e.g. \">=3.12\"",
    ]);
  });

  it("refuses a replica on another release than the primary", () => {
    const f = facts({ web: "debian13", db: "debian13", replica: "debian12" });
    expect(factsProblems(TOPO, f, project(undefined), COMMIT, ["web"])).toEqual([
      "hosts: replica \"replica\" runs Debian 12 (bookworm) but the primary \"db\" runs Debian 13 (trixie); " +
        "a replica needs the primary's database version. Fix: run both on the same Debian release",
    ]);
  });

  it("accepts replicas on the primary's release, whatever their Python", () => {
    const f = facts({ web: "debian13", db: "debian12", replica: "debian12" }, { replica: "3.11.9" });
    expect(factsProblems(TOPO, f, project(">=3.12"), COMMIT, ["web"])).toEqual([]);
  });

  it("reports a Python mismatch and a replica mismatch together", () => {
    const f = facts({ web: "debian12", db: "debian12", replica: "debian13" });
    const problems = factsProblems(TOPO, f, project(">=3.12"), COMMIT, ["web"]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^app\.ref: the project at 0123456789ab requires Python ">=3\.12"/);
    expect(problems[1]).toBe(
      "hosts: replica \"replica\" runs Debian 13 (trixie) but the primary \"db\" runs Debian 12 (bookworm); " +
        "a replica needs the primary's database version. Fix: run both on the same Debian release",
    );
  });

  it("is empty without replicas", () => {
    const topo: Topology = { ...TOPO, hosts: [web, db], dbReplicas: [] };
    expect(factsProblems(topo, facts({ web: "debian13", db: "debian12" }), project(undefined), COMMIT, ["web"])).toEqual([]);
  });
});
