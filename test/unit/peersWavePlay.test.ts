/**
 * bench/peers/ansible/wavePlay.ts: unlike hosts' tasks woven into one play, every host's
 * order kept, shared tasks written once, the others named by a `when`.
 */
import { describe, expect, it } from "vitest";
import { mergeTasks, type HostTasks } from "../../bench/peers/ansible/wavePlay.ts";

const task = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ name, ...extra });
const host = (name: string, tasks: string[], handlers: string[] = []): HostTasks => ({ host: name, tasks: tasks.map((t) => task(t)), handlers: handlers.map((h) => task(h)) });
/** A merged play in one line per task: its name, and the hosts its `when` names. */
const lines = (m: ReturnType<typeof mergeTasks>) => m!.tasks.map((t) => `${t.name}${t.when === undefined ? "" : ` [${JSON.stringify(t.when)}]`}`);

describe("mergeTasks", () => {
  const cases: Array<[string, HostTasks[], string[]]> = [
    ["alike hosts share every task", [host("a", ["x", "y"]), host("b", ["x", "y"])], ["x", "y"]],
    ["a task one host lacks names the other", [host("a", ["x", "migrate", "y"]), host("b", ["x", "y"])],
      ["x", "migrate [\"inventory_hostname == \\\"a\\\"\"]", "y"]],
    ["unlike hosts: each keeps its order, the common tasks shared", [host("core", ["apt core", "fw", "pg", "log"]), host("app", ["apt app", "fw", "log"])],
      ["apt core [\"inventory_hostname == \\\"core\\\"\"]", "apt app [\"inventory_hostname == \\\"app\\\"\"]", "fw", "pg [\"inventory_hostname == \\\"core\\\"\"]", "log"]],
    ["three hosts, two alike", [host("core", ["c", "s"]), host("a1", ["a", "s"]), host("a2", ["a", "s"])],
      ["c [\"inventory_hostname == \\\"core\\\"\"]", "a [\"inventory_hostname in [\\\"a1\\\",\\\"a2\\\"]\"]", "s"]],
  ];
  for (const [name, hosts, want] of cases) {
    it(name, () => {
      const m = mergeTasks(hosts);
      expect(lines(m)).toEqual(want);
      // Every host's own tasks, in its order, are what the play runs on it.
      for (const h of hosts) {
        const runs = m!.tasks.filter((t) => {
          const w = Array.isArray(t.when) ? t.when[0] : t.when;
          return w === undefined || w === `inventory_hostname == "${h.host}"` || (typeof w === "string" && w.startsWith("inventory_hostname in") && (JSON.parse(w.slice("inventory_hostname in ".length)) as string[]).includes(h.host));
        }).map((t) => JSON.stringify({ name: t.name }));
        expect(runs).toEqual(h.tasks);
      }
    });
  }

  it("keeps a task's own condition after the host's", () => {
    const m = mergeTasks([
      { host: "a", tasks: [task("x", { when: "db is changed" })], handlers: [] },
      { host: "b", tasks: [task("y")], handlers: [] },
    ]);
    expect(m!.tasks[0]!.when).toEqual(["inventory_hostname == \"a\"", "db is changed"]);
  });

  it("leaves a flush of handlers without a condition (Ansible takes none there)", () => {
    const flush = JSON.stringify({ name: "apply", "ansible.builtin.meta": "flush_handlers" });
    const m = mergeTasks([{ host: "a", tasks: [task("x"), flush], handlers: [] }, { host: "b", tasks: [task("y")], handlers: [] }]);
    expect(m!.tasks.map((t) => t.when)).toEqual(["inventory_hostname == \"a\"", undefined, "inventory_hostname == \"b\""]);
  });

  it("joins the handlers by name, and refuses two hosts' handlers of one name that differ", () => {
    expect(mergeTasks([host("a", ["x"], ["restart nginx"]), host("b", ["x"], ["restart nginx", "restart rsyslog"])])!.handlers.map((h) => h.name))
      .toEqual(["restart nginx", "restart rsyslog"]);
    expect(mergeTasks([
      { host: "a", tasks: [], handlers: [task("restart x", { unit: "x.service" })] },
      { host: "b", tasks: [], handlers: [task("restart x", { unit: "y.service" })] },
    ])).toBeUndefined();
  });
});
