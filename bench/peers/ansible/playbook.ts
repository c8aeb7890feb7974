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
 * - for a fleet, a play per wave (render.ts): the hosts of a wave share one play (each
 *   host's files under files/<host>/, its address as a host variable), so Ansible works on
 *   them side by side, with forks for every host; unlike hosts run it `free` (wavePlay.ts).
 *
 * The tasks are written step by step in tasks.ts (files in fileTasks.ts, the release in
 * releaseTasks.ts, the handlers in handlers.ts); this file puts them into plays.
 * Pure: project.ts returns the whole project as files (path relative to the project
 * folder, content, mode); install.ts installs ansible-core and index.ts writes the project
 * and runs it.
 */
import { planOf, type PeerPlan, type PeerStack } from "../types.ts";
import { handlers } from "./handlers.ts";
import type { Task } from "./task.ts";
import { ansibleOrder, playbookTasks } from "./tasks.ts";
import { mergeTasks, type HostTasks } from "./wavePlay.ts";
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

/** One host's tasks and handlers as text, its own address written as a variable where hosts can share them. */
function hostTasks(st: PeerStack): HostTasks {
  const tasks = playbookTasks({ ...st, steps: ansibleOrder(st) });
  const own = (x: Yaml) => {
    const g = generic(st, x);
    return g === "not shared" ? JSON.stringify(x) : g;
  };
  return { host: st.host.name, tasks: tasks.map((t) => own(t as Yaml)), handlers: (handlers(st) as Yaml[]).map(own) };
}

/** A play: the hosts it runs on, its tasks and handlers, and `free` when unlike hosts share it. */
interface Play {
  readonly hosts: string;
  readonly tasks: Task[];
  readonly handlers: Task[];
  readonly strategy?: "free";
}

/**
 * The plays: one per wave (render.ts), the waves in order. A wave of one host, or of every
 * host of one set of roles (the app hosts), keeps the default strategy (the hosts run each
 * task together); a wave of unlike hosts runs `free`. Hosts whose handlers disagree get a
 * play each.
 */
function plays(plan: PeerPlan): Play[] {
  const out: Play[] = [];
  for (const wave of plan.waves) {
    const merged = wave.length > 1 ? mergeTasks(wave.map(hostTasks)) : undefined;
    if (merged) {
      const groups = new Set(wave.map((st) => groupName(st.host.roles)));
      const [only] = groups;
      const whole = groups.size === 1 && plan.stacks.filter((x) => groupName(x.host.roles) === only).length === wave.length;
      out.push({ hosts: whole ? only! : wave.map((x) => x.host.name).join(":"), ...merged, ...(groups.size > 1 ? { strategy: "free" as const } : {}) });
      continue;
    }
    for (const st of wave) out.push({ hosts: st.host.name, tasks: playbookTasks({ ...st, steps: ansibleOrder(st) }), handlers: handlers(st) });
  }
  return out;
}

/** The playbook as data (what site.yml holds). */
export function playbookData(p: PeerStack | PeerPlan): Yaml {
  return plays(planOf(p)).map((play) => ({
    name: `django-fleet's stack on ${play.hosts} (bench/peers)`,
    hosts: play.hosts,
    ...(play.strategy ? { strategy: play.strategy } : {}),
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
