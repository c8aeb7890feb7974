/**
 * Rules that need the facts read from the hosts and the repository: checked after those
 * reads and before the first resource is registered, so a mismatch changes nothing. Pure.
 */
import type { PythonProject } from "./pythonProject.ts";
import { satisfies } from "./pythonProject.ts";
import type { HostFacts } from "./releases.ts";
import { RELEASES } from "./releases.ts";
import type { Topology } from "./topology.ts";

/** Every problem, as `key: what. Fix: how` lines (empty when all is well). */
export function factsProblems(topo: Topology, facts: ReadonlyMap<string, HostFacts>, project: PythonProject, commit: string, codeHosts: readonly string[]): string[] {
  const problems: string[] = [];
  const need = project.requiresPython;
  if (need) {
    for (const name of codeHosts) {
      const f = facts.get(name)!;
      const ok = satisfies(f.python, need.spec);
      if (typeof ok === "string") {
        problems.push(`app.ref: ${need.source} at ${commit.slice(0, 12)}: ${ok}. Fix: write it as PEP 440 specifiers, e.g. ">=3.12"`);
        break;
      }
      if (!ok) {
        const fits = Object.values(RELEASES).filter((r) => satisfies(r.python, need.spec) === true).map((r) => `${r.title}, Python ${r.python}`);
        problems.push(`app.ref: the project at ${commit.slice(0, 12)} requires Python ${JSON.stringify(need.spec)} (${need.source}), but host "${name}" runs ${f.release.title} with Python ${f.python}; nothing was installed. Fix: ${fits.length ? `run the app on hosts with ${fits.join(" or ")}` : "relax requires-python"}, or deploy a ref whose requires-python accepts Python ${f.python}`);
      }
    }
  }
  // A replica is a copy of the primary's data files (PostgreSQL) or must speak its binlog
  // format (MariaDB): the major versions, and so the releases, must match.
  const primary = facts.get(topo.db.name)!.release;
  for (const r of topo.dbReplicas) {
    const rel = facts.get(r.name)!.release;
    if (rel.id !== primary.id) {
      problems.push(`hosts: replica "${r.name}" runs ${rel.title} but the primary "${topo.db.name}" runs ${primary.title}; a replica needs the primary's database version. Fix: run both on the same Debian release`);
    }
  }
  return problems;
}
