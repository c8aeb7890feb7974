/**
 * What every backup job's script shares (components/timedJobUnits.ts renders their units): its first lines, and the retention it applies
 * (restic's `forget --keep-*` rule; pgbackrest-gfs.py applies the same to pgBackRest).
 * The scripts themselves: restic/mariaDbBackupScript.ts, restic/mediaBackupScript.ts,
 * pgbackrest/backupScript.ts, pgbackrest/restoreDrillScript.ts.
 */
import { assertInt, managedHeader } from "../../lib/render.ts";

/** How many backups are kept, with restic's `forget --keep-*` meaning; times are UTC. */
export interface BackupRetention {
  /** For the last N days that have a backup, the newest backup of each day. */
  readonly daily: number;
  /** For the last N ISO weeks that have a backup, the newest backup of each week. */
  readonly weekly: number;
  /** For the last N calendar months that have a backup, the newest backup of each month. */
  readonly monthly: number;
}

/** Checks retention counts: each 0..1000, and not all 0 (restic would then keep everything). */
export function checkRetention(what: string, r: BackupRetention): BackupRetention {
  const daily = assertInt(`${what} retention.daily`, r.daily, 0, 1000);
  const weekly = assertInt(`${what} retention.weekly`, r.weekly, 0, 1000);
  const monthly = assertInt(`${what} retention.monthly`, r.monthly, 0, 1000);
  if (daily + weekly + monthly === 0) {
    throw new Error(`${what} retention keeps nothing: set daily, weekly or monthly above 0`);
  }
  return { daily, weekly, monthly };
}

/** The first lines of every script: bash, the notice, and stop at the first failure. */
export function scriptHead(purpose: readonly string[]): string[] {
  return ["#!/bin/bash", managedHeader("#"), ...purpose.map((l) => `# ${l}`), "set -euo pipefail", "cd /"];
}
