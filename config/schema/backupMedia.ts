/** The `backup` and `media` sections: scheduled backups and their retention, where uploads live. */
import { z } from "zod";
import { calendarProblem } from "../onCalendar.ts";
import { HOST_RE } from "./primitives.ts";
import { objectStoreSchema } from "./objectStore.ts";

/** A systemd OnCalendar expression: conservative characters, never read as an option. */
const CALENDAR_CHARS = /^[A-Za-z0-9*][A-Za-z0-9*,:/.~ -]*$/;
const onCalendar = z.string().max(200).regex(CALENDAR_CHARS, "must be a systemd OnCalendar expression, e.g. \"*-*-* 03:00:00\" or daily")
  .superRefine((v, ctx) => {
    // Text the pattern already refused gets that one message, not two.
    if (!CALENDAR_CHARS.test(v)) return;
    const problem = calendarProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: `is not a systemd calendar expression (${problem}); e.g. "*-*-* 03:00:00" or daily` });
  });

export const backupSchema = z.strictObject({
  /** Where backups go. No target, no backups (a warning says so on a stack with protectData). @default none */
  target: objectStoreSchema.optional(),
  /** When the scheduled backup runs (systemd OnCalendar, host time, UTC on our hosts). @default "*-*-* 03:00:00" */
  schedule: onCalendar.default("*-*-* 03:00:00"),
  /** How many backups are kept: the newest of each of the last N days, weeks and months. */
  retention: z.strictObject({
    /** @default 7 */ daily: z.number().int().min(0).max(1000).default(7),
    /** @default 4 */ weekly: z.number().int().min(0).max(1000).default(4),
    /** @default 6 */ monthly: z.number().int().min(0).max(1000).default(6),
  }).prefault({}).refine((r) => r.daily + r.weekly + r.monthly > 0, "keeps nothing: set daily, weekly or monthly above 0"),
  /** When the restore drill proves the latest backup restores (PostgreSQL). @default "Sun *-*-* 04:30:00" */
  drillSchedule: onCalendar.default("Sun *-*-* 04:30:00"),
});

export const mediaSchema = z.strictObject({
  /** Where uploads live: `local` (MEDIA_ROOT on the host; one app host only) or `s3` (shared by every app host). @default "local" */
  storage: z.enum(["local", "s3"]).default("local"),
  /** The object store for `s3`, with its own bucket and keys (every app host holds them). @default none: required with `s3` unless shareBackupTarget */
  target: objectStoreSchema.optional(),
  /**
   * Uploads go to backup.target, with its keys: the app (and anyone who runs code as it) then
   * holds keys that can delete the database backups. Set it only knowing that. @default false
   */
  shareBackupTarget: z.boolean().default(false),
  /** Key prefix of uploads in the bucket (django-storages' location). @default "media" */
  location: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(?:\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/, "must be slash-separated segments of letters, digits, . _ and -").default("media"),
  /** A domain (CDN) that serves the bucket; media URLs use it. @default none (URLs signed by the app) */
  customDomain: z.string().regex(HOST_RE, "must be a host name").optional(),
});
