/**
 * Writes the Ansible peer's project (project.ts) into a fresh folder and says how to run
 * it. The folder holds the rendered env file and the secrets: it is made 0700, and the
 * caller removes it after the run.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { PeerPlan, PeerStack } from "../types.ts";
import { ansibleProject } from "./project.ts";

export interface AnsibleRun {
  /** The project folder. */
  readonly dir: string;
  /** The command: ansible-playbook site.yml (run in `dir`, with `env`). */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** Writes the project into `dir` (default: a new temporary folder) and returns its command line. */
export function writeAnsibleProject(stack: PeerStack | PeerPlan, o: { readonly privateKeyPath: string; readonly ansiblePlaybook: string; readonly dir?: string }): AnsibleRun {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), "fleet-peer-ansible-"));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  for (const f of ansibleProject(stack, { dir, privateKeyPath: o.privateKeyPath })) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(path, f.content, { mode: f.mode });
    chmodSync(path, f.mode);
  }
  return {
    dir,
    argv: [o.ansiblePlaybook, "site.yml"],
    env: { ANSIBLE_CONFIG: join(dir, "ansible.cfg"), ANSIBLE_HOME: join(dir, ".ansible"), ANSIBLE_NOCOLOR: "1" },
  };
}
