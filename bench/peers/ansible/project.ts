/**
 * The Ansible peer's project as files: ansible.cfg, the inventory, known_hosts, the
 * playbook (playbook.ts), its secrets and the rendered files. Pure: index.ts writes it.
 */
import type { HostPlan } from "../../../config/topology.ts";
import { knownHostsLine } from "../bash.ts";
import { planOf, type PeerPlan, type PeerStack } from "../types.ts";
import { projectFilePath } from "./fileTasks.ts";
import { groupName, playbook } from "./playbook.ts";
import { toYaml } from "./yaml.ts";

/** One file of the project. */
export interface ProjectFile {
  readonly path: string;
  readonly content: string;
  /** 0o600 for what holds secrets. */
  readonly mode: number;
}

export interface ProjectOptions {
  /** The project folder on this machine (ansible.cfg names paths in it). */
  readonly dir: string;
  /** The SSH private key's path on this machine. */
  readonly privateKeyPath: string;
}

/** The secrets the tasks use (vars/secrets.yml, 0600). */
export function secretVars(p: PeerStack | PeerPlan): string {
  const steps = planOf(p).stacks.flatMap((st) => st.steps);
  const db = steps.find((s) => s.kind === "database");
  const broker = steps.find((s) => s.kind === "brokerAccount");
  return toYaml({
    db_password: db?.kind === "database" ? db.password : "",
    broker_password: broker?.kind === "brokerAccount" ? broker.password : "",
  });
}

/** One group per set of roles; each host with its address (`private_address`, which shared plays use). */
export function inventory(hosts: readonly HostPlan[], privateKeyPath: string): string {
  const v = (s: string | number) => JSON.stringify(String(s));
  const groups = new Map<string, HostPlan[]>();
  for (const h of hosts) groups.set(groupName(h.roles), [...(groups.get(groupName(h.roles)) ?? []), h]);
  return [...groups].flatMap(([name, hs]) => [
    `[${name}]`,
    ...hs.map((h) => `${h.name} ansible_host=${v(h.address)} ansible_port=${h.port} ansible_user=${v(h.user)} ansible_ssh_private_key_file=${v(privateKeyPath)} private_address=${v(h.privateAddress)}`),
    "",
  ]).join("\n");
}

export function ansibleCfg(dir: string, forks = 5): string {
  return [
    "[defaults]",
    "inventory = inventory.ini",
    "gathering = explicit",
    "interpreter_python = /usr/bin/python3",
    "host_key_checking = True",
    "retry_files_enabled = False",
    // Every host of a play at once (the default is 5).
    `forks = ${forks}`,
    `local_tmp = ${dir}/.ansible/tmp`,
    "",
    "[ssh_connection]",
    "pipelining = True",
    `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${dir}/known_hosts -o GlobalKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o IdentityAgent=none`,
    `control_path_dir = ${dir}/.cp`,
    "",
  ].join("\n");
}

/** Every file of the project: ansible.cfg, inventory, known_hosts, site.yml, vars/secrets.yml, files/<host>/<path>. */
export function ansibleProject(p: PeerStack | PeerPlan, o: ProjectOptions): ProjectFile[] {
  const plan = planOf(p);
  return [
    { path: "ansible.cfg", content: ansibleCfg(o.dir, Math.max(5, plan.stacks.length)), mode: 0o644 },
    { path: "inventory.ini", content: inventory(plan.stacks.map((st) => st.host), o.privateKeyPath), mode: 0o644 },
    { path: "known_hosts", content: plan.stacks.map((st) => knownHostsLine(st.host)).join(""), mode: 0o644 },
    { path: "site.yml", content: playbook(plan), mode: 0o644 },
    { path: "vars/secrets.yml", content: secretVars(plan), mode: 0o600 },
    ...plan.stacks.flatMap((st) => st.files.map((f) => ({ path: projectFilePath(st.host.name, f.path), content: f.content, mode: f.secret ? 0o600 : 0o644 }))),
  ];
}
