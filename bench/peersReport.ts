/**
 * The peers benchmark's arithmetic and its table (issue 13): medians, the ratios against
 * the issue's targets, and the Markdown report. Pure: samples in, text out.
 */

/** The three engines, in the table's column order. */
export const TOOLS = ["fleet", "ansible", "bash"] as const;
export type Tool = (typeof TOOLS)[number];

export const TOOL_TITLES: Readonly<Record<Tool, string>> = {
  fleet: "django-fleet",
  ansible: "Ansible",
  bash: "plain bash",
};

/** One timed run of one tool. */
export interface Sample {
  readonly seconds: number;
  /** What the tool said it changed ("no changes", "changed: x y", "changed=3"). */
  readonly changed: string;
}

/** A row of the table: one kind of run, the samples of each tool. */
export interface Row {
  readonly id: string;
  readonly what: string;
  /** django-fleet's samples for this row; `up --refresh` is a row of its own with no peer samples. */
  readonly samples: Partial<Record<Tool, readonly Sample[]>>;
  /** The peer row django-fleet's figure is compared with (default: this row). */
  readonly compareWith?: string;
  /** The issue's targets: fleet / ansible and fleet / bash at most. */
  readonly target?: { readonly ansible?: number; readonly bash?: number };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median of no samples");
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function medianOf(samples: readonly Sample[] | undefined): number | undefined {
  return samples && samples.length ? median(samples.map((s) => s.seconds)) : undefined;
}

/** fleet / peer for a row (its own fleet figure, the peer's figure from `compareWith`). */
export function ratio(rows: readonly Row[], row: Row, peer: Exclude<Tool, "fleet">): number | undefined {
  const f = medianOf(row.samples.fleet);
  const other = rows.find((r) => r.id === (row.compareWith ?? row.id));
  const p = medianOf(other?.samples[peer]);
  return f === undefined || p === undefined || p === 0 ? undefined : f / p;
}

const secs = (x: number | undefined) => (x === undefined ? "-" : x.toFixed(x < 10 ? 2 : 1));

function cell(samples: readonly Sample[] | undefined): string {
  const m = medianOf(samples);
  if (m === undefined) return "-";
  return samples!.length > 1 ? `${secs(m)} (${samples!.length})` : secs(m);
}

/** A ratio with two decimals, more where two would round it onto its target (0.104x, not "0.10x: missed"). */
export function ratioText(r: number, target?: number): string {
  let digits = 2;
  while (digits < 4 && target !== undefined && r !== target && Number(r.toFixed(digits)) === target) digits++;
  return `${r.toFixed(digits)}x`;
}

function ratioCell(r: number | undefined, target: number | undefined): string {
  if (r === undefined) return "-";
  const text = ratioText(r, target);
  if (target === undefined) return text;
  return r <= target ? `**${text}** (target <= ${target}x: met)` : `**${text}** (target <= ${target}x: missed)`;
}

/** The Markdown table: seconds (median, with the number of runs), and the two ratios. */
export function renderTable(rows: readonly Row[]): string {
  const head = ["run", ...TOOLS.map((t) => `${TOOL_TITLES[t]} s`), "django-fleet / Ansible", "django-fleet / bash"];
  const lines = [`| ${head.join(" | ")} |`, `| --- | ${head.slice(1).map(() => "---:").join(" | ")} |`];
  for (const row of rows) {
    const peerCell = (t: Tool) => (row.compareWith && t !== "fleet" ? `(as above)` : cell(row.samples[t]));
    lines.push(`| ${[
      row.what,
      ...TOOLS.map(peerCell),
      ratioCell(ratio(rows, row, "ansible"), row.target?.ansible),
      ratioCell(ratio(rows, row, "bash"), row.target?.bash),
    ].join(" | ")} |`);
  }
  return lines.join("\n");
}

/** Every sample with what the tool reported changing: the evidence that a no-change run changed nothing. */
export function renderSamples(rows: readonly Row[]): string {
  const out: string[] = [];
  for (const row of rows) {
    for (const t of TOOLS) {
      const ss = row.samples[t];
      if (!ss?.length) continue;
      out.push(`- ${row.what}, ${TOOL_TITLES[t]}: ${ss.map((s) => `${secs(s.seconds)} s (${s.changed})`).join("; ")}`);
    }
  }
  return out.join("\n");
}

/** Ratios that missed their targets, for the note and the report. */
export function misses(rows: readonly Row[]): string[] {
  const out: string[] = [];
  for (const row of rows) {
    for (const peer of ["ansible", "bash"] as const) {
      const target = row.target?.[peer];
      const r = ratio(rows, row, peer);
      if (target !== undefined && r !== undefined && r > target) out.push(`${row.what}: django-fleet / ${TOOL_TITLES[peer]} = ${ratioText(r, target)}, target <= ${target}x`);
    }
  }
  return out;
}

export interface ReportHeader {
  readonly date: string;
  readonly machine: string;
  readonly command: string;
  readonly commit: string;
  readonly hosts: string;
  readonly versions: string;
  readonly wholeRunMinutes: number;
  readonly notes: readonly string[];
}

export function renderReport(h: ReportHeader, rows: readonly Row[], scale: readonly ScaleRow[] = []): string {
  const missed = misses(rows);
  return [
    "# django-fleet against Ansible and a plain bash script: the dev stack on one host",
    "",
    `- date: ${h.date}`,
    `- machine: ${h.machine}`,
    `- command: \`${h.command}\``,
    `- code: ${h.commit}`,
    `- hosts: ${h.hosts}`,
    `- tools: ${h.versions}`,
    `- whole run: ${h.wholeRunMinutes.toFixed(1)} min`,
    "",
    "Seconds of each tool's own run (the process from start to exit); a figure with `(n)` is the",
    "median of n runs. Every run ends with the same check as the e2e test (the page shows the",
    "PostgreSQL rows, a finished Celery task and a beat run, nginx serves the static file,",
    "`/healthz` answers `ok`), outside the timed span; a run that fails it fails the benchmark.",
    "",
    renderTable(rows),
    "",
    missed.length ? `Targets missed:\n${missed.map((m) => `- ${m}`).join("\n")}` : "Every target was met.",
    "",
    ...(scale.length ? [
      "## 4. No-change runs as the fleet grows",
      "",
      "One stack: a core host with every role but `app`, and N app hosts (uploads in the test",
      "object store, as the config requires for several app hosts); the fleet grows from 1 to 4",
      "to 8 app hosts by changing `hosts` in the config. At each N, after django-fleet's runs,",
      "each peer renders the same fleet from the same config and the stack's own secrets, takes",
      "those hosts over once (untimed here; listed below with what it changed), then makes its",
      "no-change runs. Ansible: a play per wave and role, the app hosts in one play, forks for",
      "every host; bash: one session per host, the hosts of a wave side by side.",
      "",
      renderScaleTable(scale),
      "",
    ] : []),
    ...(h.notes.length ? ["Notes:", ...h.notes.map((n) => `- ${n}`), ""] : []),
    "Every sample, with what the tool reported changing:",
    "",
    renderSamples(rows),
    ...scale.flatMap((r) => [
      `- ${r.n} app hosts, django-fleet: grow ${secs(r.grow.seconds)} s (${r.grow.changed}); no-change \`up\` ${r.nochange.map((x) => `${secs(x.seconds)} s (${x.changed})`).join("; ")}; \`up --refresh\` ${r.refresh.map((x) => `${secs(x.seconds)} s (${x.changed})`).join("; ")}`,
      ...(["ansible", "bash"] as const).flatMap((t) => {
        const p = r.peers?.[t];
        return p ? [`- ${r.n} app hosts, ${TOOL_TITLES[t]}: taking over django-fleet's hosts ${secs(p.takeover.seconds)} s (${p.takeover.changed}); no-change ${p.nochange.map((x) => `${secs(x.seconds)} s (${x.changed})`).join("; ")}`] : [];
      }),
    ]),
    "",
  ].join("\n");
}

/** Part 4: django-fleet's no-change runs with N app hosts (and one host for every other role). */
export interface ScaleRow {
  /** App hosts. */
  readonly n: number;
  /** Every host of the stack (the app hosts and the core host). */
  readonly hosts: number;
  /** The `up` that grew the fleet to N app hosts (or made it, for the first N). */
  readonly grow: Sample;
  readonly nochange: readonly Sample[];
  readonly refresh: readonly Sample[];
  /**
   * The peers on the same hosts, after django-fleet: a first run that takes them over
   * (untimed: it writes the bash peer's markers; it is the evidence that the peers' end
   * state is django-fleet's), then the timed no-change runs.
   */
  readonly peers?: Partial<Record<Exclude<Tool, "fleet">, { readonly takeover: Sample; readonly nochange: readonly Sample[] }>>;
}

/** Part 4's table: seconds (median) and seconds per host of each tool's no-change run, and the ratios. */
export function renderScaleTable(rows: readonly ScaleRow[]): string {
  const lines = [
    "| app hosts (hosts in all) | `up` that grew the fleet s | django-fleet no-change `up` s (per host) | `up --refresh` s (per host) | Ansible s (per host) | plain bash s (per host) | django-fleet / Ansible | `--refresh` / Ansible | django-fleet / bash |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const r of rows) {
    const nc = medianOf(r.nochange);
    const rf = medianOf(r.refresh);
    const an = medianOf(r.peers?.ansible?.nochange);
    const ba = medianOf(r.peers?.bash?.nochange);
    const per = (samples: readonly Sample[] | undefined) => {
      const x = medianOf(samples);
      return x === undefined ? "-" : `${cell(samples)} (${(x / r.hosts).toFixed(2)})`;
    };
    const x = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || b === 0 ? "-" : `${(a / b).toFixed(2)}x`);
    lines.push(`| ${r.n} (${r.hosts}) | ${secs(r.grow.seconds)} | ${per(r.nochange)} | ${per(r.refresh)} | ${per(r.peers?.ansible?.nochange)} | ${per(r.peers?.bash?.nochange)} | ${x(nc, an)} | ${x(rf, an)} | ${x(nc, ba)} |`);
  }
  return lines.join("\n");
}

/** What ansible-playbook's PLAY RECAP says, summed over its hosts; undefined without one. */
export function ansibleRecap(stdout: string): { hosts: number; changed: number; failed: number; unreachable: number } | undefined {
  const at = stdout.lastIndexOf("PLAY RECAP");
  if (at < 0) return undefined;
  const lines = [...stdout.slice(at).matchAll(/^\S+\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)];
  if (!lines.length) return undefined;
  const sum = (k: number) => lines.reduce((n, m) => n + Number(m[k]), 0);
  return { hosts: lines.length, changed: sum(2), unreachable: sum(3), failed: sum(4) };
}

/** What `pulumi up` says it changed, from its "Resources:" summary ("no changes" when all are unchanged). */
export function upChanges(stdout: string): string {
  const at = stdout.lastIndexOf("Resources:");
  if (at < 0) throw new Error("pulumi up printed no \"Resources:\" summary");
  const counts = [...stdout.slice(at).matchAll(/^\s*[-+~]*\s*(\d+) (created|updated|deleted|replaced|unchanged)\b/gm)].map((m) => [m[2]!, Number(m[1])] as const);
  if (!counts.length) throw new Error(`cannot read pulumi up's summary: ${JSON.stringify(stdout.slice(at, at + 200))}`);
  const changed = counts.filter(([k, n]) => k !== "unchanged" && n > 0);
  return changed.length ? `changed: ${changed.map(([k, n]) => `${k} ${n}`).join(", ")}` : "no changes";
}
