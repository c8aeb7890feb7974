/**
 * One play for a wave of hosts with different roles: each host's tasks merged into one
 * list in every host's own order (a task the hosts share is written once), a task some
 * hosts skip carrying a `when` that names the others, and the `free` strategy, so each
 * host goes through its own tasks without waiting for the others' at every step. That is
 * how an Ansible user runs unlike hosts side by side in one playbook; plays in a row would
 * run them one after the other.
 */
import type { Yaml } from "./yaml.ts";
import type { Task } from "./task.ts";

/** One host's tasks and handlers, each as the JSON text that identifies it across hosts. */
export interface HostTasks {
  readonly host: string;
  readonly tasks: readonly string[];
  readonly handlers: readonly string[];
}

/** The play's tasks and handlers; undefined when two hosts name one handler differently. */
export function mergeTasks(hosts: readonly HostTasks[]): { tasks: Task[]; handlers: Task[] } | undefined {
  let merged: Array<{ text: string; on: string[] }> = [];
  for (const h of hosts) merged = mergeOne(merged, h);
  const handlers = new Map<string, string>();
  for (const h of hosts) {
    for (const text of h.handlers) {
      const name = (JSON.parse(text) as { name: string }).name;
      if (handlers.has(name) && handlers.get(name) !== text) return undefined;
      handlers.set(name, text);
    }
  }
  const all = hosts.length;
  const tasks = merged.map(({ text, on }) => {
    const task = JSON.parse(text) as Record<string, Yaml>;
    // A flush takes no condition (Ansible ignores one); flushing where nothing is pending does nothing.
    if (on.length === all || Object.keys(task).some((k) => k.endsWith(".meta"))) return task as Task;
    const only = on.length === 1 ? `inventory_hostname == ${JSON.stringify(on[0])}` : `inventory_hostname in ${JSON.stringify(on)}`;
    return { ...task, when: task.when === undefined ? only : [only, task.when] } as Task;
  });
  return { tasks, handlers: [...handlers.values()].map((t) => JSON.parse(t) as Task) };
}

/** `merged` with one more host's tasks woven in: the longest common run of tasks is shared, the rest kept in order. */
function mergeOne(merged: ReadonlyArray<{ text: string; on: string[] }>, h: HostTasks): Array<{ text: string; on: string[] }> {
  const a = merged.map((x) => x.text);
  const b = h.tasks;
  // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: Array<{ text: string; on: string[] }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ text: a[i]!, on: [...merged[i]!.on, h.host] });
      i++;
      j++;
    } else if (j === b.length || (i < a.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      out.push({ text: a[i]!, on: [...merged[i]!.on] });
      i++;
    } else {
      out.push({ text: b[j]!, on: [h.host] });
      j++;
    }
  }
  return out;
}
