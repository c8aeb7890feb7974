/**
 * Per-node timings of one `pulumi up`, from its engine events. Pure (the clock is passed
 * in): feed it every event through `onEvent`, then read `result()`.
 *
 * A resource belongs to app node `app1` when its name is `app1` or starts with `app1-`
 * (our components name resources after their host: `app1-fleetdemo-gunicorn`), or, failing
 * that, contains `-app1-` or ends with `-app1`. A resource's step runs from its first
 * `resourcePreEvent` to its last `resOutputsEvent` (or `resOpFailedEvent`). Steps that change
 * nothing (`same`, `read`, `refresh`) are ignored.
 *
 * - switch: the steps of the node's switch resources: `ReleaseSwitch` (releases side by side,
 *   issue 11) or, for the in-place deploy before it, the gunicorn `SystemdService` (its reload);
 *   or both (`restart`, the one-host shape: whatever may restart the only node's gunicorn,
 *   since a unit-file change restarted it through the service before issue 25).
 * - busy: every changing step on the node, first start to last end (for the in-place
 *   deploy: git checkout, pip, collectstatic and the reload).
 *
 * Times are when the event reached us (the Automation API polls its event log every
 * 200 ms), not the engine's whole-second `timestamp`.
 */
import type { EngineEvent, OpType } from "@pulumi/pulumi/automation/index.js";

/** Which resources are a node's switch: the new code's, the old in-place reload, or either. */
export type SwitchKind = "releaseSwitch" | "gunicorn" | "restart";

export function isSwitchResource(kind: SwitchKind, type: string, name: string): boolean {
  const release = type.includes("ReleaseSwitch");
  const gunicorn = type.includes("SystemdService") && name.endsWith("-gunicorn");
  return kind === "releaseSwitch" ? release : kind === "gunicorn" ? gunicorn : release || gunicorn;
}

/** The app node a resource name belongs to (see the header), or undefined. */
export function nodeOf(name: string, nodes: readonly string[]): string | undefined {
  return nodes.find((n) => name === n || name.startsWith(`${n}-`))
    ?? nodes.find((n) => name.includes(`-${n}-`) || name.endsWith(`-${n}`));
}

/** The resource name at the end of a URN. */
export function urnName(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

const NO_CHANGE: ReadonlySet<OpType> = new Set<OpType>(["same", "read", "refresh"]);

export type SwitchStatus = "switched" | "failed" | "unfinished" | "unchanged";

export interface NodeTiming {
  readonly node: string;
  /** switched: its switch ran and succeeded; failed: it ran and failed; unfinished: it started and never ended; unchanged: it did not run. */
  readonly status: SwitchStatus;
  /** Seconds of the switch (first start to last end of the node's switch resources); null when unchanged. */
  readonly switchSeconds: number | null;
  /** Seconds from the node's first changing step to its last; null when nothing changed on it. */
  readonly busySeconds: number | null;
  /** Seconds from the start of the up to the switch's start (the rollout order); null when unchanged. */
  readonly switchStartSeconds: number | null;
}

export interface DeployTimings {
  readonly nodes: NodeTiming[];
  /** Error diagnostics, `resource: first line` (at most 10, each at most 300 characters). */
  readonly errors: string[];
  /** Type tokens of the switch resources seen (empty: the program has none of that kind). */
  readonly switchTypes: string[];
  /** Resources whose steps failed. */
  readonly failedResources: string[];
  /** The switch resources that changed, `op name` in the order they started (which of them restarted gunicorn). */
  readonly switchSteps: string[];
}

interface Step { start: number; end: number | null; failed: boolean; type: string; name: string; op: OpType }

export function deployRecorder(nodes: readonly string[], kind: SwitchKind, now: () => number = () => performance.now()) {
  const t0 = now();
  const steps = new Map<string, Step>();
  const errors: string[] = [];
  const switchTypes = new Set<string>();
  const relevant = (type: string) => type !== "pulumi:pulumi:Stack" && !type.startsWith("pulumi:providers:");

  return {
    onEvent(e: EngineEvent): void {
      const t = now();
      const pre = e.resourcePreEvent?.metadata;
      if (pre && relevant(pre.type)) {
        if (isSwitchResource(kind, pre.type, urnName(pre.urn))) switchTypes.add(pre.type);
        if (NO_CHANGE.has(pre.op)) return;
        if (!steps.has(pre.urn)) steps.set(pre.urn, { start: t, end: null, failed: false, type: pre.type, name: urnName(pre.urn), op: pre.op });
        return;
      }
      const out = e.resOutputsEvent?.metadata;
      if (out) {
        const s = steps.get(out.urn);
        if (s) s.end = t;
        return;
      }
      const failed = e.resOpFailedEvent?.metadata;
      if (failed) {
        const s = steps.get(failed.urn) ?? { start: t, end: null, failed: false, type: failed.type, name: urnName(failed.urn), op: failed.op };
        s.end = t;
        s.failed = true;
        steps.set(failed.urn, s);
        return;
      }
      const d = e.diagnosticEvent;
      if (d && d.severity === "error" && errors.length < 10) {
        const line = d.message.trim().split("\n").find((l) => l.trim()) ?? "";
        const text = `${d.urn ? `${urnName(d.urn)}: ` : ""}${line.trim()}`;
        errors.push(text.length > 300 ? `${text.slice(0, 297)}...` : text);
      }
    },

    result(): DeployTimings {
      const secs = (ms: number) => Math.round(ms / 100) / 10;
      const timings = nodes.map((node): NodeTiming => {
        const mine = [...steps.values()].filter((s) => nodeOf(s.name, nodes) === node);
        const switches = mine.filter((s) => isSwitchResource(kind, s.type, s.name));
        const span = (ss: Step[]) => {
          if (!ss.length) return null;
          const start = Math.min(...ss.map((s) => s.start));
          const ends = ss.map((s) => s.end);
          return { start, end: ends.every((x) => x !== null) ? Math.max(...(ends as number[])) : null };
        };
        const sw = span(switches);
        const busy = span(mine);
        const status: SwitchStatus = !sw ? "unchanged"
          : switches.some((s) => s.failed) ? "failed"
          : sw.end === null ? "unfinished" : "switched";
        const last = now();
        return {
          node,
          status,
          switchSeconds: sw ? secs((sw.end ?? last) - sw.start) : null,
          busySeconds: busy ? secs((busy.end ?? last) - busy.start) : null,
          switchStartSeconds: sw ? secs(sw.start - t0) : null,
        };
      });
      return {
        nodes: timings,
        errors: [...errors],
        switchTypes: [...switchTypes].sort(),
        failedResources: [...steps.values()].filter((s) => s.failed).map((s) => s.name),
        switchSteps: [...steps.values()].filter((s) => isSwitchResource(kind, s.type, s.name)).sort((a, b) => a.start - b.start).map((s) => `${s.op} ${s.name}`),
      };
    },
  };
}
