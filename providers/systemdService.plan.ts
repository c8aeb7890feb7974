/**
 * The SystemdService plan (pure): what changed between the recorded and the desired
 * state, and the commands that bring the unit there, empty when nothing is to do.
 */
import { sameRecord } from "../lib/records.ts";
import { cmd, script } from "../lib/shell.ts";
import { UNTRACKED } from "./remoteFile.ops.ts";
import type { ObservedService } from "./systemdService.probe.ts";
import { readiness } from "./systemdService.ready.ts";
import type { LoadedFile, ServiceState } from "./systemdService.state.ts";

/**
 * What changed between the recorded and the desired inputs. A unit the last refresh found
 * stopped is restarted, not just started: whatever stopped it (a rebuilt server, a
 * package reinstall) may have started it again since with the package's own config.
 */
export function changes(olds: ServiceState | undefined, news: ServiceState) {
  const files = fileChanges(olds, news);
  return {
    restart: !olds || !sameRecord(olds.restartOn, news.restartOn) || (olds.active === false && news.active) || files.restart,
    reload: !olds || !sameRecord(olds.reloadOn, news.reloadOn) || files.reload,
  };
}

/**
 * Which of reload and restart the loaded files call for: a file whose stamp differs from
 * the recorded one (written since, or marked not loaded by refresh), or a file the unit
 * did not load before. State from older code has no `loads`: only a file written in this
 * run acts, not one that only got the upgrade's fixed stamp (so an upgrade reloads or
 * restarts nothing that was fine). While previewing, a stamp not known yet (the file is
 * about to be written) differs too.
 */
export function fileChanges(olds: ServiceState | undefined, news: ServiceState): { restart: boolean; reload: boolean } {
  const out: Record<LoadedFile["then"], boolean> = { restart: false, reload: false };
  if (!olds) return out;
  // Before the files are known (a preview of their first write), something will load.
  if (news.loads !== undefined && !Array.isArray(news.loads)) return { restart: false, reload: true };
  const recorded: readonly LoadedFile[] | undefined = Array.isArray(olds.loads) ? olds.loads : undefined;
  for (const f of (news.loads ?? []) as readonly LoadedFile[]) {
    // Older state: only a file written in this run (not the fixed stamp of the upgrade) acts.
    const acts = recorded ? recorded.find((x) => x.path === f.path)?.written !== f.written || !recorded.some((x) => x.path === f.path)
      : f.written !== undefined && f.written !== UNTRACKED;
    if (acts) out[f.then] = true;
  }
  return out;
}

/** Whether the recorded `loads` lack what the program declares (paths, actions, checks), stamps aside. */
export function loadsDeclared(olds: ServiceState, news: ServiceState): boolean {
  const shape = (l: unknown) => (Array.isArray(l) ? l.map((f: LoadedFile) => ({ path: f.path, then: f.then, check: f.check ?? "" })) : l);
  return JSON.stringify(shape(olds.loads ?? [])) === JSON.stringify(shape(news.loads ?? []));
}

/**
 * The plan. A restart covers a reload; nothing is restarted that need not be; a unit
 * that should be active is proven ready before the run goes on, with its journal shown
 * when it is not, so a crash-looping app fails the run instead of hiding.
 */
export function plan(desired: ServiceState, observed: ObservedService, change: { restart: boolean; reload: boolean }): string {
  const u = cmd(desired.unit);
  const steps: string[] = [];
  // A start, restart or reload that fails shows the unit's journal: the cause, not just "failed".
  // One retry after a pause: systemd in a container has been seen to fail a reload once
  // with "Failed to spawn executor: No such file or directory" and succeed right after.
  const orJournal = (c: string) => `${c} || { sleep 2; ${c}; } || { journalctl -u ${u} -n 25 --no-pager -o cat >&2; exit 1; }`;
  // A masked unit (someone ran `systemctl mask`) refuses enable and start.
  if (observed.masked && (desired.enabled || desired.active)) steps.push(`systemctl unmask ${u}`);
  if (change.restart) steps.push("systemctl daemon-reload");
  if (desired.enabled && !observed.enabled) steps.push(`systemctl enable ${u}`);
  if (!desired.enabled && observed.enabled) steps.push(`systemctl disable ${u}`);
  const started = desired.active && (!observed.active || change.restart);
  let reloaded = false;
  if (desired.active) {
    if (!observed.active) steps.push(orJournal(`systemctl start ${u}`));
    else if (change.restart) steps.push(orJournal(`systemctl restart ${u}`));
    else if (change.reload) { steps.push(orJournal(`systemctl reload-or-restart ${u}`)); reloaded = true; }
  } else if (observed.active) {
    steps.push(`systemctl stop ${u}`);
  }
  if (steps.length === 0) return "";
  if (desired.active) steps.push(...readiness(desired, started ? "started" : reloaded ? "reloaded" : "untouched"));
  return script(...steps);
}
