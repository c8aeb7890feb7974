/**
 * The deploy benchmark's report: a markdown table per deploy (load figures, the up's
 * seconds and each app node's switch), the details (each node's busy time, what the nodes
 * and the site ran afterwards, the errors), and how it was measured. Pure. The words that
 * differ between shapes (title, code names, how it is measured) come in a ReportText.
 */
import type { LoadResult } from "./load.ts";
import type { Code, DeployStep } from "./deployPlan.ts";
import type { NodeTiming } from "./deployTimes.ts";

export interface DeployRow {
  readonly step: DeployStep;
  readonly result: "succeeded" | "failed";
  readonly upSeconds: number;
  /** null: no load during this up. */
  readonly load: LoadResult | null;
  readonly nodes: readonly NodeTiming[];
  /** Error lines of a failed up (engine diagnostics, or the exception's first line). */
  readonly errors: readonly string[];
  /** Per app node, what it runs after the up (describeNode). */
  readonly nodesAfter: Readonly<Record<string, string>>;
  /** What the site served after the up, e.g. `v2 6/6, served by app1 app2`. */
  readonly siteAfter: string;
  /** A note such as "no ReleaseSwitch resource in this program". */
  readonly note?: string;
}

export interface ReportMeta {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  readonly oldCode: string;
  readonly newCode: string;
  readonly hosts: string;
  readonly load: string;
  readonly broken: string;
  readonly settings: string;
  readonly totalSeconds: number;
  /** Set when the run stopped before its last deploy. */
  readonly status?: string;
}

const s1 = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x.toFixed(1));
const ms = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? "-" : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** A node's switch cell: `4.2`, `failed 61.3`, `unfinished 12.0`, or `-` (did not switch). */
export function switchCell(t: NodeTiming | undefined): string {
  if (!t || t.status === "unchanged") return "-";
  if (t.status === "switched") return s1(t.switchSeconds);
  return `${t.status} ${s1(t.switchSeconds)}`;
}

/** Whether the up ended the way a correct deploy does. */
export function asExpected(row: Pick<DeployRow, "step" | "result">): boolean {
  return row.step.expect === "either"
    || (row.step.expect === "succeeds" && row.result === "succeeded")
    || (row.step.expect === "fails" && row.result === "failed");
}

/** What a shape's report says in words: its title, how it names each code, how it measures. */
export interface ReportText {
  /** The first line, without the `# `. */
  readonly title: string;
  /** Each code's name in the tables' first column. */
  readonly code: Readonly<Record<Code, string>>;
  /** The lines of "How it is measured". */
  readonly measured: readonly string[];
}

/** The five-host shape's words (issue 11: in place vs releases). */
export const FIVE_HOST_TEXT: ReportText = {
  title: "Deploys under load: in place (before issue 11) vs releases with a rolling, health-gated switch",
  code: { old: "old (in place)", new: "new (releases)" },
  measured: [
    "- One run, one set of test hosts, one stack: the old code's deploys, then the new code's from the state the old code left.",
    "- sent / failed: GET requests to the load balancer's https://<lb>/ from the start of the load (before the up) to its stop (after it);",
    "  failed = a status outside 2xx, a connection error or a timeout. p50 / p99: latency of every request, failed ones included.",
    "- up s: the Automation API's `up`, from call to return (a failed up included).",
    "- switch s: per app node, from the first engine event of its switch resources to their last (ReleaseSwitch for the new code;",
    "  the gunicorn SystemdService, that is the reload, for the old code). `-`: the node did not switch; `failed`: its switch failed.",
    "- busy s: per app node, from its first changing resource to its last (for the old code: checkout, pip, collectstatic and reload, in place).",
    "- Event times are when the Automation API delivered them (it polls its event log every 200 ms).",
  ],
};

export function renderTable(rows: readonly DeployRow[], nodes: readonly string[], code: ReportText["code"] = FIVE_HOST_TEXT.code): string {
  const head = ["code", "deploy", "up", "up s", "sent", "failed", "p50 ms", "p99 ms", ...nodes.map((n) => `${n} switch s`)];
  const lines = [
    `| ${head.join(" | ")} |`,
    `| ${head.map((h, i) => (i < 3 ? "---" : "---:")).join(" | ")} |`,
  ];
  for (const r of rows) {
    const byNode = new Map(r.nodes.map((t) => [t.node, t]));
    const up = `${r.result}${asExpected(r) ? "" : " (unexpected)"}`;
    lines.push(`| ${[
      code[r.step.code],
      cell(`${r.step.from} -> ${r.step.ref}: ${r.step.what}`),
      up,
      s1(r.upSeconds),
      r.load ? String(r.load.sent) : "no load",
      r.load ? String(r.load.failed) : "-",
      ms(r.load?.p50Ms),
      ms(r.load?.p99Ms),
      ...nodes.map((n) => switchCell(byNode.get(n))),
    ].join(" | ")} |`);
  }
  return lines.join("\n");
}

export function renderDetails(rows: readonly DeployRow[], nodes: readonly string[], code: ReportText["code"] = FIVE_HOST_TEXT.code): string {
  const head = ["code", "deploy", ...nodes.map((n) => `${n} busy s`), "switch starts at s", ...nodes.map((n) => `${n} after`), "site after", "failed requests", "errors"];
  const lines = [`| ${head.join(" | ")} |`, `| ${head.map(() => "---").join(" | ")} |`];
  for (const r of rows) {
    const byNode = new Map(r.nodes.map((t) => [t.node, t]));
    const starts = nodes.map((n) => s1(byNode.get(n)?.switchStartSeconds)).join(" / ");
    const failures = r.load && r.load.failed
      ? `${r.load.errorsSample.join(", ")} (between ${s1((r.load.firstFailureMs ?? 0) / 1000)} and ${s1((r.load.lastFailureMs ?? 0) / 1000)} s of the load)`
      : r.load ? "none" : "-";
    const errors = [...r.errors.slice(0, 3), ...(r.note ? [r.note] : [])].join("; ") || "-";
    lines.push(`| ${[
      code[r.step.code],
      `${r.step.from} -> ${r.step.ref}`,
      ...nodes.map((n) => s1(byNode.get(n)?.busySeconds)),
      starts,
      ...nodes.map((n) => r.nodesAfter[n] ?? "?"),
      r.siteAfter,
      failures,
      errors,
    ].map(cell).join(" | ")} |`);
  }
  return lines.join("\n");
}

export function renderReport(meta: ReportMeta, rows: readonly DeployRow[], nodes: readonly string[], text: ReportText = FIVE_HOST_TEXT): string {
  return [
    `# ${text.title}`,
    "",
    `- date: ${meta.date}`,
    `- machine: ${meta.machine}`,
    `- command: \`${meta.command}\``,
    `- old code: ${meta.oldCode}`,
    `- new code: ${meta.newCode}`,
    `- hosts: ${meta.hosts}`,
    `- load: ${meta.load}`,
    `- broken release: ${meta.broken}`,
    `- new code's settings: ${meta.settings}`,
    `- whole run: ${s1(meta.totalSeconds / 60)} min`,
    ...(meta.status ? [`- **${meta.status}**`] : []),
    "",
    renderTable(rows, nodes, text.code),
    "",
    "## Details",
    "",
    renderDetails(rows, nodes, text.code),
    "",
    "## How it is measured",
    "",
    ...text.measured,
    "",
  ].join("\n");
}
