/**
 * The peers benchmark's arithmetic (bench/peersReport.ts): medians, ratios against the
 * row each is compared with, targets met and missed, and the tables.
 */
import { describe, expect, it } from "vitest";
import { ansibleRecap, median, misses, ratioText, ratio, renderReport, renderScaleTable, renderTable, upChanges, type Row } from "../../bench/peersReport.ts";

const s = (...xs: number[]) => xs.map((seconds) => ({ seconds, changed: "no changes" }));

const rows: Row[] = [
  { id: "first", what: "first", samples: { fleet: s(80), ansible: s(140), bash: s(90) }, target: { bash: 1.15 } },
  { id: "nochange", what: "no-change up", samples: { fleet: s(9, 3, 5), ansible: s(40, 50, 45), bash: s(4, 4, 6) }, target: { ansible: 0.1 } },
  { id: "refresh", what: "refresh", samples: { fleet: s(10, 12, 11) }, compareWith: "nochange", target: { ansible: 0.5 } },
];

describe("peers report", () => {
  it.each([
    [[3], 3], [[5, 1, 3], 3], [[4, 1, 3, 2], 2.5], [[2, 2], 2],
  ])("median of %j is %d", (xs, want) => {
    expect(median(xs)).toBe(want);
  });

  it("refuses the median of nothing", () => {
    expect(() => median([])).toThrow(/no samples/);
  });

  it("compares fleet's median with the peer's median of the row named by compareWith", () => {
    expect(ratio(rows, rows[0]!, "bash")).toBeCloseTo(80 / 90);
    expect(ratio(rows, rows[1]!, "ansible")).toBeCloseTo(5 / 45);
    expect(ratio(rows, rows[2]!, "ansible")).toBeCloseTo(11 / 45);
    expect(ratio(rows, rows[2]!, "bash")).toBeCloseTo(11 / 4);
  });

  it("lists exactly the ratios over their targets", () => {
    expect(misses(rows)).toEqual(["no-change up: django-fleet / Ansible = 0.11x, target <= 0.1x"]);
  });

  it("renders medians with their run counts, ratios, and whether each target was met", () => {
    const table = renderTable(rows);
    expect(table.split("\n")[0]).toBe("| run | django-fleet s | Ansible s | plain bash s | django-fleet / Ansible | django-fleet / bash |");
    expect(table).toContain("| first | 80.0 | 140.0 | 90.0 | 0.57x | **0.89x** (target <= 1.15x: met) |");
    expect(table).toContain("| no-change up | 5.00 (3) | 45.0 (3) | 4.00 (3) | **0.11x** (target <= 0.1x: missed) | 1.25x |");
    expect(table).toContain("| refresh | 11.0 (3) | (as above) | (as above) | **0.24x** (target <= 0.5x: met) | 2.75x |");
  });

  it("renders part 4 per host", () => {
    const t = renderScaleTable([{ n: 4, hosts: 5, grow: { seconds: 100, changed: "changed: create 40" }, nochange: s(10, 12, 11), refresh: s(20, 20, 25) }]);
    expect(t).toContain("| 4 (5) | 100.0 | 11.0 (3) (2.20) | 20.0 (3) (4.00) | - | - | - | - | - |");
  });

  it("renders part 4 with the peers: medians, per host, the ratios; every takeover and sample in the report", () => {
    const row = {
      n: 8, hosts: 9, grow: { seconds: 120, changed: "changed: create 80" }, nochange: s(9, 10, 11), refresh: s(20, 22, 24),
      peers: {
        ansible: { takeover: { seconds: 150, changed: "changed=3" }, nochange: s(100, 110, 90) },
        bash: { takeover: { seconds: 30, changed: "app1: changed: migrate" }, nochange: s(5, 4, 6) },
      },
    };
    const t = renderScaleTable([row]);
    expect(t).toContain("| 8 (9) | 120.0 | 10.0 (3) (1.11) | 22.0 (3) (2.44) | 100.0 (3) (11.11) | 5.00 (3) (0.56) | 0.10x | 0.22x | 2.00x |");
    const report = renderReport({ date: "d", machine: "m", command: "c", commit: "x", hosts: "h", versions: "v", wholeRunMinutes: 1, notes: [] }, rows, [row]);
    expect(report).toContain("- 8 app hosts, Ansible: taking over django-fleet's hosts 150.0 s (changed=3); no-change 100.0 s (no changes); 110.0 s (no changes); 90.0 s (no changes)");
    expect(report).toContain("- 8 app hosts, plain bash: taking over django-fleet's hosts 30.0 s (app1: changed: migrate)");
  });

  it("shows a third decimal only where two would round a ratio onto its target", () => {
    expect(ratioText(5.52 / 53.3, 0.1)).toBe("0.104x");
    expect(ratioText(0.0996, 0.1)).toBe("0.0996x");
    expect(ratioText(0.12, 0.1)).toBe("0.12x");
    expect(ratioText(0.1, 0.1)).toBe("0.10x");
    expect(ratioText(0.104)).toBe("0.10x");
  });

  it("reads ansible-playbook's recap over every host", () => {
    const out = "TASK [x]\nok: [core]\n\nPLAY RECAP *****\ncore   : ok=40 changed=0    unreachable=0    failed=0    skipped=2\napp1 : ok=30 changed=2 unreachable=0 failed=1 skipped=0\n";
    expect(ansibleRecap(out)).toEqual({ hosts: 2, changed: 2, unreachable: 0, failed: 1 });
    expect(ansibleRecap("ERROR! no playbook")).toBeUndefined();
  });

  it("writes the header, the table, the misses and every sample", () => {
    const report = renderReport({ date: "d", machine: "m", command: "c", commit: "x", hosts: "h", versions: "v", wholeRunMinutes: 12.34, notes: ["a note"] }, rows);
    expect(report).toContain("- whole run: 12.3 min");
    expect(report).toContain("Targets missed:\n- no-change up: django-fleet / Ansible = 0.11x");
    expect(report).toContain("- a note");
    expect(report).toContain("- no-change up, Ansible: 40.0 s (no changes); 50.0 s (no changes); 45.0 s (no changes)");
    expect(report).not.toContain("## 4.");
  });

  it.each([
    ["Outputs:\n    x: 1\n\nResources:\n    49 unchanged\n\nDuration: 4s\n", "no changes"],
    ["Resources:\n    ~ 2 updated\n    47 unchanged\n\nDuration: 9s\n", "changed: updated 2"],
    ["Resources:\n    + 49 created\n\nDuration: 1m17s\n", "changed: created 49"],
    ["Resources:\n    + 3 created\n    +-1 replaced\n    - 2 deleted\n    40 unchanged\n", "changed: created 3, replaced 1, deleted 2"],
  ])("reads pulumi up's summary %#", (out, want) => {
    expect(upChanges(out)).toBe(want);
  });

  it("refuses output without a summary", () => {
    expect(() => upChanges("error: update failed\n")).toThrow(/no "Resources:" summary/);
  });
});
