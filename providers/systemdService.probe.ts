/**
 * The SystemdService probe: one script that reads a unit's enabled/active state (and,
 * on refresh, when it last loaded its files), and pure parsers of its output.
 */
import { cmd, script } from "../lib/shell.ts";
import type { LoadedFile } from "./systemdService.state.ts";

/** How refresh marks a file the running process has not loaded (the `written` it reports). */
export const NOT_LOADED = "not loaded";

export interface ObservedService {
  readonly enabled: boolean;
  readonly active: boolean;
  /** Masked (linked to /dev/null): it can be neither enabled nor started until unmasked. @default false */
  readonly masked?: boolean;
}

/** What refresh reads beside the state: when the unit last (re)loaded, and each loaded file. */
export interface ObservedLoads {
  /** Unix seconds the unit last became active from inactive (a start or restart); undefined if never. */
  readonly startedAt?: number;
  /** Unix seconds of its last state change: for an active unit, its last start or reload. */
  readonly changedAt?: number;
  /** Per file of `loads`, in order: its modification time (undefined: missing) and its check's verdict. */
  readonly files: ReadonlyArray<{ readonly mtime?: number; readonly checked: boolean }>;
}

/**
 * The probe: `enabled active` on the first line; with `files` (refresh only, so a run
 * with nothing to do reads no more than before) the unit's start and state-change times
 * and one line per file, `file <mtime|-> <1|0>` (1: its check passed or it has none).
 */
export function probeScript(unit: string, files: readonly LoadedFile[] = []): string {
  return script(
    `u=${cmd(unit)}`,
    `echo "$(systemctl is-enabled "$u" 2>/dev/null || true) $(systemctl is-active "$u" 2>/dev/null || true)"`,
    files.length > 0 && `systemctl show -p ActiveEnterTimestamp -p StateChangeTimestamp --timestamp=unix "$u" 2>/dev/null || true`,
    ...files.map((f) => [
      `m=$(stat -c %Y -- ${cmd(f.path)} 2>/dev/null || echo -)`,
      f.check ? `if ( ${f.check} ) >/dev/null 2>&1; then c=1; else c=0; fi` : "c=1",
      `echo "file $m $c"`,
    ].join("; ")),
  );
}

export function parseProbe(stdout: string): ObservedService {
  const [enabled, active] = (stdout.split("\n")[0] ?? "").trim().split(/\s+/);
  // Units enabled through another unit (static, indirect, ...) count as enabled: asking
  // systemctl to enable them again would change nothing and show as drift forever.
  const enabledStates = ["enabled", "enabled-runtime", "static", "indirect", "alias", "generated", "linked"];
  return {
    enabled: enabledStates.includes(enabled ?? ""), active: active === "active" || active === "reloading",
    ...(enabled === "masked" || enabled === "masked-runtime" ? { masked: true } : {}),
  };
}

/** The times and file lines of a probe run with files (see {@link probeScript}). */
export function parseLoads(stdout: string): ObservedLoads {
  const at = (key: string) => {
    const m = new RegExp(`^${key}=@(\\d+)`, "m").exec(stdout);
    return m ? Number(m[1]) : undefined;
  };
  const files = [...stdout.matchAll(/^file (\S+) ([01])$/gm)].map((m) => ({
    ...(m[1] === "-" ? {} : { mtime: Number(m[1]) }),
    checked: m[2] === "1",
  }));
  return { startedAt: at("ActiveEnterTimestamp"), changedAt: at("StateChangeTimestamp"), files };
}

/**
 * `loads` as refresh reports it: each file the running unit has not loaded gets a
 * {@link NOT_LOADED} note in place of its stamp, so its diff is the reload or restart
 * that loads it. Not loaded: changed after the unit's last reload (a `then: "restart"`
 * file: after its last start; whole seconds, so a write in the second of the reload
 * counts as loaded), or its check failed. A stopped unit is left alone (it is started
 * anyway), as is a missing file (RemoteFile writes it, which reloads).
 */
export function notLoaded(files: readonly LoadedFile[], active: boolean, o: ObservedLoads): LoadedFile[] {
  return files.map((f, i) => {
    const seen = o.files[i];
    if (!active || !seen || seen.mtime === undefined) return f;
    const since = f.then === "restart" ? o.startedAt : o.changedAt;
    const reason = !seen.checked ? "the running state differs from the file"
      : since === undefined || seen.mtime > since ? `changed after the last ${f.then}` : undefined;
    return reason ? { ...f, written: `${NOT_LOADED}: ${reason}` } : f;
  });
}
