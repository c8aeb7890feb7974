/**
 * assets/pgbackrest-gfs.py, run for real with python3: tables of full-backup histories
 * through `--dry-run --info-json`, compared with the exact set kept; then the expire
 * commands it runs, against a stand-in `pgbackrest` that records its arguments.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const PLANNER = fileURLToPath(new URL("../../assets/pgbackrest-gfs.py", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "fleet-gfs-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** One backup in pgBackRest's `info --output=json` shape. */
interface InfoBackup {
  label: string;
  type: string;
  timestamp: { start: number; stop: number };
}

/**
 * A full backup started at `at` (UTC, `YYYY-MM-DD HH:MM:SS`), labelled as pgBackRest
 * labels it (`YYYYMMDD-HHMMSSF`) unless `label` is given.
 */
function full(at: string, label?: string): InfoBackup {
  const start = Date.parse(`${at.replace(" ", "T")}Z`) / 1000;
  if (!Number.isInteger(start)) throw new Error(`bad time ${at}`);
  return { label: label ?? `${at.replace(/[-:]/g, "").replace(" ", "-")}F`, type: "full", timestamp: { start, stop: start + 300 } };
}

/** A differential or incremental backup on top of `base`. */
function dependent(base: InfoBackup, type: "diff" | "incr", at: string): InfoBackup {
  const start = Date.parse(`${at.replace(" ", "T")}Z`) / 1000;
  return { label: `${base.label}_${at.replace(/[-:]/g, "").replace(" ", "-")}${type === "diff" ? "D" : "I"}`, type, timestamp: { start, stop: start + 60 } };
}

function infoJson(backups: readonly InfoBackup[], stanza = "django-fleet"): string {
  return JSON.stringify([{ name: stanza, status: { code: 0, message: "ok" }, backup: backups }]);
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

let files = 0;
function runPlanner(args: readonly string[], info?: string, env?: NodeJS.ProcessEnv): Run {
  const extra: string[] = [];
  if (info !== undefined) {
    const file = join(tmp, `info-${files++}.json`);
    writeFileSync(file, info);
    extra.push("--info-json", file);
  }
  const r = spawnSync("python3", [PLANNER, ...args, ...extra], { encoding: "utf8", env: env ?? process.env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The dry-run plan: label -> reasons (kept) or null (expired), in the order printed. */
function plan(backups: readonly InfoBackup[], daily: number, weekly: number, monthly: number): Map<string, string[] | null> {
  const r = runPlanner(["--stanza", "django-fleet", "--daily", String(daily), "--weekly", String(weekly), "--monthly", String(monthly), "--dry-run"], infoJson(backups));
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const out = new Map<string, string[] | null>();
  for (const line of r.stdout.split("\n")) {
    const keep = /^keep (\S+) \(([a-z,]+)\)$/.exec(line);
    const expire = /^expire (\S+)$/.exec(line);
    if (keep) out.set(keep[1] ?? "", (keep[2] ?? "").split(","));
    else if (expire) out.set(expire[1] ?? "", null);
  }
  return out;
}

function kept(p: Map<string, string[] | null>): string[] {
  return [...p].filter(([, reasons]) => reasons !== null).map(([label]) => label).sort();
}

/** One backup a day at 03:00 from `from` to `to` (inclusive), UTC. */
function nightly(from: string, to: string): InfoBackup[] {
  const out: InfoBackup[] = [];
  for (let t = Date.parse(`${from}T03:00:00Z`); t <= Date.parse(`${to}T03:00:00Z`); t += 86_400_000) {
    out.push(full(new Date(t).toISOString().slice(0, 19).replace("T", " ")));
  }
  return out;
}

interface Case {
  name: string;
  backups: InfoBackup[];
  daily: number;
  weekly: number;
  monthly: number;
  /** Exactly the labels kept, every other full backup is expired. */
  keep: string[];
}

const cases: Case[] = [
  {
    // restic's rule, worked by hand: newest first, each rule keeps the newest backup of
    // each new day / ISO week / month until its count is spent; a backup kept by several
    // rules counts for each. The same timestamps given to `restic forget --dry-run
    // --keep-daily 7 --keep-weekly 4 --keep-monthly 3` (restic 0.14) keep exactly this
    // set. 2026-03-10 is a Tuesday; ISO weeks start on Monday.
    name: "ten weeks of nightly backups plus two extra: the same set as restic forget",
    backups: [...nightly("2026-01-01", "2026-03-10"), full("2026-03-10 15:00:00"), full("2026-03-09 23:59:59")],
    daily: 7,
    weekly: 4,
    monthly: 3,
    keep: [
      "20260310-150000F", // daily (Mar 10), weekly (W11), monthly (March)
      "20260309-235959F", // daily (Mar 9; newer than 03:00 the same day)
      "20260308-030000F", // daily, weekly (W10 ends Sunday Mar 8)
      "20260307-030000F", // daily
      "20260306-030000F", // daily
      "20260305-030000F", // daily
      "20260304-030000F", // daily: the 7th day
      "20260301-030000F", // weekly (W09 ends Sunday Mar 1)
      "20260228-030000F", // monthly (February)
      "20260222-030000F", // weekly (W08): the 4th week
      "20260131-030000F", // monthly (January): the 3rd month
    ],
  },
  {
    name: "defaults 7/4/6 over eight months of nightly backups keep 7 days, 4 week ends and 6 month ends",
    backups: nightly("2025-06-01", "2026-01-20"),
    daily: 7,
    weekly: 4,
    monthly: 6,
    keep: [
      // Jan 20 2026 is a Tuesday: days 14..20; weeks end Sun Jan 18 (in the days), 11, 4.
      ...["14", "15", "16", "17", "18", "19", "20"].map((d) => `202601${d}-030000F`),
      "20260111-030000F",
      "20260104-030000F",
      // Months: January (Jan 20, already kept), Dec, Nov, Oct, Sep, Aug ends.
      "20251231-030000F",
      "20251130-030000F",
      "20251031-030000F",
      "20250930-030000F",
      "20250831-030000F",
    ],
  },
  {
    name: "gaps: the last N days that have a backup, not the last N calendar days",
    backups: [full("2026-01-01 03:00:00"), full("2026-01-02 03:00:00"), full("2026-01-10 03:00:00"), full("2026-01-20 03:00:00"), full("2026-02-15 03:00:00")],
    daily: 3,
    weekly: 0,
    monthly: 0,
    keep: ["20260110-030000F", "20260120-030000F", "20260215-030000F"],
  },
  {
    name: "several backups a day: only the newest of each day counts",
    backups: [full("2026-05-04 01:00:00"), full("2026-05-04 12:00:00"), full("2026-05-04 23:00:00"), full("2026-05-03 22:00:00"), full("2026-05-03 03:00:00")],
    daily: 1,
    weekly: 0,
    monthly: 0,
    keep: ["20260504-230000F"],
  },
  {
    name: "daily 0: ISO weeks cross the new year (Mon 2025-12-29 opens 2026-W01)",
    backups: [full("2025-12-28 03:00:00"), full("2025-12-30 03:00:00"), full("2026-01-02 03:00:00"), full("2025-12-21 03:00:00")],
    daily: 0,
    weekly: 2,
    monthly: 0,
    keep: ["20251228-030000F", "20260102-030000F"],
  },
  {
    name: "monthly only, several a month: the newest of each month",
    backups: [full("2026-01-05 03:00:00"), full("2026-01-25 03:00:00"), full("2026-02-01 03:00:00"), full("2026-02-27 03:00:00"), full("2026-03-02 03:00:00")],
    daily: 0,
    weekly: 0,
    monthly: 2,
    keep: ["20260227-030000F", "20260302-030000F"],
  },
  {
    name: "times are UTC: 23:30 on Jan 31 and 00:30 on Feb 1 are different days and months",
    backups: [full("2026-01-31 23:30:00"), full("2026-02-01 00:30:00"), full("2026-01-31 10:00:00")],
    daily: 0,
    weekly: 0,
    monthly: 2,
    keep: ["20260131-233000F", "20260201-003000F"],
  },
  {
    name: "ties: two fulls started in the same second, the later label is the newer",
    backups: [full("2026-04-01 03:00:00", "20260401-030000F"), full("2026-04-01 03:00:00", "20260401-030001F"), full("2026-03-31 03:00:00")],
    daily: 1,
    weekly: 1,
    monthly: 1,
    keep: ["20260401-030001F"],
  },
  {
    name: "more counts than backups: everything is kept",
    backups: [full("2026-04-01 03:00:00"), full("2026-04-02 03:00:00")],
    daily: 7,
    weekly: 4,
    monthly: 6,
    keep: ["20260401-030000F", "20260402-030000F"],
  },
  {
    name: "a single backup is always kept",
    backups: [full("2020-01-01 00:00:00")],
    daily: 0,
    weekly: 0,
    monthly: 1,
    keep: ["20200101-000000F"],
  },
];

describe("pgbackrest-gfs.py plans", () => {
  it.each(cases)("$name", (c) => {
    const p = plan(c.backups, c.daily, c.weekly, c.monthly);
    expect(kept(p)).toEqual([...c.keep].sort());
    // Every full backup is in the plan exactly once, and nothing else is.
    expect([...p.keys()].sort()).toEqual(c.backups.map((b) => b.label).sort());
    // The newest full backup is always kept, and listed first.
    const newest = [...c.backups].sort((a, b) => b.timestamp.start - a.timestamp.start || (a.label < b.label ? 1 : -1))[0];
    expect([...p.keys()][0]).toBe(newest?.label);
    expect(p.get(newest?.label ?? "")).not.toBeNull();
  });

  it("gives each kept backup every rule that kept it", () => {
    const p = plan(cases[0]?.backups ?? [], 7, 4, 3);
    expect(p.get("20260310-150000F")).toEqual(["daily", "weekly", "monthly"]);
    expect(p.get("20260308-030000F")).toEqual(["daily", "weekly"]);
    expect(p.get("20260228-030000F")).toEqual(["monthly"]);
    expect(p.get("20260310-030000F")).toBeNull();
  });

  it("does not depend on the order of the info output", () => {
    const backups = cases[1]?.backups ?? [];
    const shuffled = [...backups].reverse();
    shuffled.push(...shuffled.splice(0, 37));
    expect(kept(plan(shuffled, 7, 4, 6))).toEqual(kept(plan(backups, 7, 4, 6)));
  });

  it("plans full backups only: differential and incremental backups are left to pgBackRest", () => {
    const old = full("2026-01-01 03:00:00");
    const recent = full("2026-01-08 03:00:00");
    const backups = [old, dependent(old, "diff", "2026-01-02 03:00:00"), dependent(old, "incr", "2026-01-03 03:00:00"), recent, dependent(recent, "incr", "2026-01-09 03:00:00")];
    const r = runPlanner(["--stanza", "django-fleet", "--daily", "1", "--weekly", "0", "--monthly", "0", "--dry-run"], infoJson(backups));
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n").filter((l) => /^(keep|expire) /.test(l))).toEqual(["keep 20260108-030000F (daily)", "expire 20260101-030000F"]);
    expect(r.stdout).toContain("2 full backups: 1 kept, 1 to expire (dry run)");
  });

  it("with no full backup there is nothing to do", () => {
    const r = runPlanner(["--stanza", "django-fleet", "--daily", "7", "--weekly", "4", "--monthly", "6", "--dry-run"], infoJson([]));
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("no full backup in stanza django-fleet: nothing to do\n");
  });
});

describe("pgbackrest-gfs.py refuses bad input, with a clear message and a non-zero exit", () => {
  const args = ["--stanza", "django-fleet", "--daily", "7", "--weekly", "4", "--monthly", "6", "--dry-run"];
  const okInfo = infoJson([full("2026-01-01 03:00:00")]);
  const bad: ReadonlyArray<readonly [string, readonly string[], string | undefined, RegExp]> = [
    ["a stanza not in the info output", args, infoJson([full("2026-01-01 03:00:00")], "other"), /stanza django-fleet is not in the info output/],
    ["info that is not JSON", args, "ERROR: [039]: HTTP request failed", /is not JSON/],
    ["info that is not a list", args, "{}", /not a list of stanzas/],
    ["a full backup with a bad label", args, infoJson([full("2026-01-01 03:00:00", "../../etc")]), /label '\.\.\/\.\.\/etc' is not a full backup label/],
    ["a full backup without a start time", args, JSON.stringify([{ name: "django-fleet", backup: [{ label: "20260101-030000F", type: "full", timestamp: {} }] }]), /timestamp\.start None is not a Unix time/],
    ["a label listed twice", args, infoJson([full("2026-01-01 03:00:00"), full("2026-01-01 03:00:00")]), /label twice/],
    ["all counts 0", ["--stanza", "django-fleet", "--daily", "0", "--weekly", "0", "--monthly", "0", "--dry-run"], okInfo, /all 0: the retention would keep nothing/],
    ["a negative count", ["--stanza", "django-fleet", "--daily", "-1", "--weekly", "4", "--monthly", "6", "--dry-run"], okInfo, /--daily/],
    ["a count that is not a number", ["--stanza", "django-fleet", "--daily", "seven", "--weekly", "4", "--monthly", "6", "--dry-run"], okInfo, /'seven' is not a count/],
    ["a missing count", ["--stanza", "django-fleet", "--daily", "7", "--weekly", "4", "--dry-run"], okInfo, /--monthly/],
    ["a stanza name with a space", ["--stanza", "a b", "--daily", "7", "--weekly", "4", "--monthly", "6", "--dry-run"], okInfo, /'a b' is not a stanza name/],
    ["an info file that does not exist", [...args, "--info-json", join(tmp, "missing.json")], undefined, /cannot read .*missing\.json/],
  ];
  it.each(bad.map(([name, a, info, error]) => ({ name, a, info, error })))("$name", ({ a, info, error }) => {
    const r = runPlanner(a, info);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(error);
    expect(r.stdout).not.toMatch(/^expire /m);
  });
});

describe("pgbackrest-gfs.py runs pgBackRest", () => {
  /** A stand-in pgbackrest: logs its argv, answers `info` with `INFO_FILE`, fails `expire` for `FAIL_SET`. */
  const bin = join(tmp, "bin");
  const log = join(tmp, "pgbackrest.log");
  const stub = [
    "#!/bin/bash",
    `printf '%s\\n' "$*" >>${JSON.stringify(log)}`,
    'if [ "${*: -1}" = info ]; then cat "$INFO_FILE"; exit 0; fi',
    'if [ -n "${FAIL_SET:-}" ] && [ "${*: -1}" = "--set=$FAIL_SET" ]; then echo "ERROR: [055]: unable to expire" >&2; exit 55; fi',
    "exit 0",
    "",
  ].join("\n");
  const backups = [full("2026-01-01 03:00:00"), full("2026-01-02 03:00:00"), full("2026-01-03 03:00:00"), full("2026-01-04 03:00:00")];

  function runReal(extraEnv: NodeJS.ProcessEnv): Run {
    spawnSync("mkdir", ["-p", bin]);
    writeFileSync(join(bin, "pgbackrest"), stub);
    chmodSync(join(bin, "pgbackrest"), 0o755);
    writeFileSync(log, "");
    const infoFile = join(tmp, "real-info.json");
    writeFileSync(infoFile, infoJson(backups));
    return runPlanner(["--stanza", "django-fleet", "--daily", "2", "--weekly", "0", "--monthly", "0"], undefined, {
      ...process.env,
      PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      INFO_FILE: infoFile,
      ...extraEnv,
    });
  }

  it("reads `info --output=json` itself, then expires each full backup not kept, oldest first", () => {
    const r = runReal({});
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(log, "utf8").split("\n").filter((l) => l !== "")).toEqual([
      "--stanza=django-fleet --output=json info",
      "--stanza=django-fleet expire --set=20260101-030000F",
      "--stanza=django-fleet expire --set=20260102-030000F",
    ]);
    expect(r.stdout).toContain("$ pgbackrest --stanza=django-fleet expire --set=20260101-030000F\n");
  });

  it("stops at a failing expire and exits non-zero", () => {
    const r = runReal({ FAIL_SET: "20260101-030000F" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unable to expire");
    expect(r.stderr).toMatch(/expire --set=20260101-030000F` failed/);
    expect(readFileSync(log, "utf8")).not.toContain("--set=20260102-030000F");
  });

  it("reports a failing `pgbackrest info` and expires nothing", () => {
    const r = runReal({ INFO_FILE: join(tmp, "does-not-exist.json") });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/the output of `pgbackrest --stanza=django-fleet --output=json info` is not JSON/);
    expect(readFileSync(log, "utf8")).not.toContain("expire");
  });
});
