/**
 * Everything the program checks and reads before it registers the first resource, so bad
 * input never changes a server: the config and topology, the object stores (keys only as
 * secrets, CA files that exist), the ACME server's CA file, each app's commit and how its
 * project installs (from git), and each host's facts (over SSH). Warns about apps the
 * config no longer names.
 */
import * as pulumi from "@pulumi/pulumi";
import { existsSync, readFileSync } from "node:fs";
import { removedAppNote, removedApps } from "../config/appRecords.ts";
import { factsProblems } from "../config/factsRules.ts";
import { readInventory, readPrivateKey } from "../config/files.ts";
import { ConfigError, parseConfig } from "../config/load.ts";
import { backupStore, mediaStore, plainCredentialProblems, type ObjectStore } from "../config/objectStore.ts";
import { plainRepoTokenProblems, repoCredential } from "../config/repoToken.ts";
import { detectPythonProject, filesToRead, type PythonProject } from "../config/pythonProject.ts";
import type { HostFacts } from "../config/releases.ts";
import type { StackConfig } from "../config/schema.ts";
import { buildTopology, type AppDeployment, type Topology } from "../config/topology.ts";
import { resolveCommit } from "./gitRemote.ts";
import { readHostFacts } from "./hostFacts.ts";
import { readRepoFiles } from "./repoFiles.ts";
import { startEarly } from "./startup.ts";

/** One app's code: the commit its ref names, and how its project installs. */
export interface AppCode {
  readonly d: AppDeployment;
  readonly commit: string;
  readonly project: PythonProject;
}

export interface Preflight {
  readonly cfg: StackConfig;
  readonly topo: Topology;
  readonly privateKey: string;
  readonly backupTarget: ObjectStore | undefined;
  readonly mediaTarget: ObjectStore | undefined;
  readonly code: readonly AppCode[];
  readonly facts: ReadonlyMap<string, HostFacts>;
}

/** Problems of one app's project name its own key (`apps[i].…`), not the shorthand's. */
function keyed(key: string, problem: string): string {
  return key === "app" ? problem : problem.replace(/\bapp\./g, `${key}.`);
}

/** The stack's config file in the project folder (where Pulumi runs the program), if there is one. */
function stackFile(stack: string): string | undefined {
  const path = `Pulumi.${stack}.yaml`;
  try {
    return existsSync(path) ? readFileSync(path, "utf8") : undefined;
  } catch {
    return undefined;
  }
}

export async function preflight(rawConfig: Record<string, string>, stack: string): Promise<Preflight> {
  const cfg = parseConfig(rawConfig);
  const topo = buildTopology(cfg, cfg.inventoryFile ? readInventory(cfg.inventoryFile) : undefined);
  const privateKey = readPrivateKey(topo.privateKeyPath);
  // Object stores: keys only as secrets, a CA file that exists; checked before any host is read.
  const backupTarget = backupStore(cfg, stack);
  const mediaTarget = mediaStore(cfg, stack);
  // Pulumi marks a top-level key secret when a value under it was set with --secret.
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret ?? (() => false);
  // The ACME server's CA file must exist too (certbot on the load balancer gets a copy).
  const acmeCa = cfg.loadBalancer.acme?.caFile;
  const storeProblems = [
    ...plainCredentialProblems(cfg, isSecret, stackFile(stack)),
    ...plainRepoTokenProblems(topo.deployments.map((d) => d.app), isSecret, stackFile(stack)),
    ...([["backup", backupTarget], ["media", cfg.media.target && mediaTarget]] as const).flatMap(([key, t]) =>
      t && t.caFile && !existsSync(t.caFile) ? [`${key}.target.caFile: ${JSON.stringify(t.caFile)} does not exist on this machine. Fix: give the path of the object store's CA certificate (PEM)`] : []),
    ...(acmeCa && !existsSync(acmeCa) ? [`loadBalancer.acme.caFile: ${JSON.stringify(acmeCa)} does not exist on this machine. Fix: give the path of the PEM CA certificate that signs the ACME server's HTTPS`] : []),
  ];
  if (storeProblems.length) throw new ConfigError(storeProblems);
  if (!backupTarget && cfg.protectData) {
    pulumi.log.warn("backup.target is not set: nothing backs up this stack's database. Set backup.target (README: \"Backups, restores and shared media\").");
  }
  // Every check made on this machine has passed: the dynamic-provider plugin starts while
  // git and SSH are read (lib/startup.ts). Bad config never gets this far.
  startEarly();
  const commits = new Map<string, string>();
  const found = topo.deployments.map((d) => {
    // Apps that share a repository and ref (the same code under two names) ask git once.
    const key = `${d.app.repo} ${d.app.ref}`;
    const credential = repoCredential(d.app);
    const commit = commits.get(key) ?? resolveCommit(d.app.repo, d.app.ref, d.app.key, credential);
    commits.set(key, commit);
    const project = detectPythonProject(d.app, readRepoFiles(d.app.repo, commit, filesToRead(d.app), credential));
    return { d, commit, project };
  });
  const projectProblems = found.flatMap(({ d, project }) => typeof project === "string" ? [keyed(d.app.key, project)] : []);
  if (projectProblems.length) throw new ConfigError(projectProblems);
  const code: AppCode[] = found.flatMap(({ d, commit, project }) => typeof project === "string" ? [] : [{ d, commit, project }]);
  const facts = await readHostFacts(topo.hosts.map((plan, index) => ({ plan, index, pinned: cfg.hosts[index]!.os })), privateKey);
  const factProblems = code.flatMap(({ d, commit, project }) => {
    // The code runs on the app's hosts and on the load balancer (which serves its static files).
    const names = new Set([...d.codeHosts, ...(topo.loadBalancer ? [topo.loadBalancer] : [])].map((h) => h.name));
    return factsProblems(topo, facts, project, commit, [...names]).map((p) => keyed(d.app.key, p));
  });
  if (factProblems.length) throw new ConfigError(factProblems);
  for (const r of removedApps(topo, facts)) pulumi.log.warn(removedAppNote(r, cfg.database.engine));
  return { cfg, topo, privateKey, backupTarget, mediaTarget, code, facts };
}
