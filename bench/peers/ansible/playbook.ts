/**
 * The Ansible peer: the dev stack as a playbook, written the way a good Ansible user
 * writes one, over the files our templates render (so only the engine differs):
 *
 * - one `apt` task with the package list; `copy` tasks for the rendered files (our
 *   templates render them; Jinja would only add a second renderer to disagree with);
 * - `systemd_service` tasks keep the units enabled and running, and handlers restart or
 *   reload them when what they read changed, flushed before anything depends on them;
 * - `group`, `user`, `file` for the app's account and folders, `git` for the checkout;
 * - idempotent `command` tasks with `creates` / `changed_when` / `failed_when` for the
 *   database and role, the RabbitMQ vhost and user, the virtualenv, migrate and
 *   collectstatic (the community.postgresql and pip modules would need psycopg2 and
 *   setuptools on the host, which the dev stack does not install);
 * - SSH pipelining and ControlPersist on, facts not gathered (nothing here needs them);
 * - for a fleet, a play per wave (render.ts) and set of roles: the app hosts share one
 *   play (each host's files under files/<host>/, its address as a host variable), so
 *   Ansible works on them side by side, with forks for every host.
 *
 * The tasks are written step by step in tasks.ts (files in fileTasks.ts, the release in
 * releaseTasks.ts, the handlers in handlers.ts); this file puts them into plays.
 * Pure: project.ts returns the whole project as files (path relative to the project
 * folder, content, mode); install.ts installs ansible-core and index.ts writes the project
 * and runs it.
 */
import { planOf, type PeerPlan, type PeerStack } from "../render.ts";
import { handlers } from "./handlers.ts";
import type { Task } from "./task.ts";
import { ansibleOrder, playbookTasks } from "./tasks.ts";
import { toYaml, type Yaml } from "./yaml.ts";

/** The inventory group of hosts with these roles (the plays of several hosts name it). */
export function groupName(roles: ReadonlySet<string>): string {
  return [...roles].sort().join("_").toLowerCase();
}

/** A host's tasks with its own address written as the `private_address` variable, so hosts of one role can share a play. */
function generic(st: PeerStack, data: Yaml): string {
  const text = JSON.stringify(data);
  const exactly = (a: string) => new RegExp(`(?<![0-9.])${a.replace(/\./g, "\\.")}(?![0-9])`, "g");
  return st.host.privateAddress === st.host.address || !exactly(st.host.address).test(text)
    ? text.replace(exactly(st.host.privateAddress), "{{ private_address }}")
    : "not shared";
}

/**
 * The tasks of hosts with the same roles as one list, for one play: each host's tasks
 * must be the longest list's, in order, with some left out (the migration runs on the
 * first app host only); a task some hosts skip gets a `when` naming the others.
 * Undefined when the hosts' tasks differ otherwise.
 */
function shared(sts: readonly PeerStack[]): { tasks: Task[]; handlers: Task[] } | undefined {
  const lists = sts.map((st) => playbookTasks({ ...st, steps: ansibleOrder(st) }).map((t) => generic(st, t as Yaml)));
  const full = lists.reduce((a, b) => (b.length > a.length ? b : a));
  const on: string[][] = full.map(() => []);
  for (let h = 0; h < sts.length; h++) {
    let k = 0;
    for (const t of lists[h]!) {
      while (k < full.length && full[k] !== t) k++;
      if (k === full.length) return undefined;
      on[k++]!.push(sts[h]!.host.name);
    }
  }
  const hs = sts.map((st) => generic(st, handlers(st) as Yaml));
  if (hs.some((x) => x !== hs[0])) return undefined;
  const tasks = full.map((t, k) => {
    const task = JSON.parse(t) as Record<string, Yaml>;
    const hosts = on[k]!;
    if (hosts.length === sts.length) return task as Task;
    const only = hosts.length === 1 ? `inventory_hostname == ${JSON.stringify(hosts[0])}` : `inventory_hostname in ${JSON.stringify(hosts)}`;
    return { ...task, when: task.when === undefined ? only : [only, task.when] } as Task;
  });
  return { tasks, handlers: JSON.parse(hs[0]!) as Task[] };
}

/**
 * The plays: one per wave and set of roles, so Ansible runs hosts of one role (the app
 * hosts) side by side; the waves in order.
 */
function plays(plan: PeerPlan): Array<{ hosts: string; tasks: Task[]; handlers: Task[] }> {
  const out: Array<{ hosts: string; tasks: Task[]; handlers: Task[] }> = [];
  for (const wave of plan.waves) {
    const groups = new Map<string, PeerStack[]>();
    for (const st of wave) groups.set(groupName(st.host.roles), [...(groups.get(groupName(st.host.roles)) ?? []), st]);
    for (const [name, sts] of groups) {
      const merged = sts.length > 1 ? shared(sts) : undefined;
      if (merged) {
        const whole = plan.stacks.filter((x) => groupName(x.host.roles) === name).length === sts.length;
        out.push({ hosts: whole ? name : sts.map((x) => x.host.name).join(":"), ...merged });
        continue;
      }
      // One host, or hosts whose tasks differ: a play each.
      for (const st of sts) {
        out.push({
          hosts: st.host.name,
          tasks: playbookTasks({ ...st, steps: ansibleOrder(st) }),
          handlers: handlers(st),
        });
      }
    }
  }
  return out;
}

/** The playbook as data (what site.yml holds). */
export function playbookData(p: PeerStack | PeerPlan): Yaml {
  return plays(planOf(p)).map((play) => ({
    name: `django-fleet's stack on ${play.hosts} (bench/peers)`,
    hosts: play.hosts,
    gather_facts: false,
    vars_files: ["vars/secrets.yml"],
    tasks: play.tasks,
    handlers: play.handlers,
  }));
}

/** The playbook (site.yml). */
export function playbook(p: PeerStack | PeerPlan): string {
  return toYaml(playbookData(p));
}
