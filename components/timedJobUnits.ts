/**
 * The two unit files of a timed job (components/timedJob.ts): the oneshot service and the
 * timer that starts it. Backups and restore drills run this way. Pure.
 */
import { assertInt, assertMatches, assertName, assertPath, managedHeader, renderLines, withDefault } from "../lib/render.ts";

/** Options for {@link renderBackupService}. */
export interface BackupServiceOptions {
  /** `Description=`; plain text (no `%`, `\` or line breaks). */
  readonly description: string;
  /** Unix user the job runs as (`postgres` for pgBackRest, `root` for the others). */
  readonly user: string;
  /** `ExecStart=`: an absolute path, optionally followed by plain arguments. */
  readonly execStart: string;
  /** `SyslogIdentifier=`: the job's name in the journal, e.g. `django-fleet-backup`. */
  readonly syslogIdentifier: string;
}

/** Options for {@link renderBackupTimer}. */
export interface BackupTimerOptions {
  /** `Description=`; plain text (no `%`, `\` or line breaks). */
  readonly description: string;
  /** `OnCalendar=`, e.g. `*-*-* 03:00:00` or `Sun *-*-* 04:30:00` (host time; UTC on our hosts). */
  readonly onCalendar: string;
  /**
   * `RandomizedDelaySec=`: spreads the start over this many seconds, so hosts sharing one
   * object store do not all start at the same second. 0 omits the line.
   * @default 0
   */
  readonly randomizedDelaySeconds?: number;
}

const UNIX_NAME = /^[a-z_][a-z0-9_-]*\$?$/;
/** Conservative OnCalendar characters: weekdays, dates, times, `*`, `,`, `..`, `~`, `/` and time zones. */
const ON_CALENDAR = /^[A-Za-z0-9*][A-Za-z0-9*,:/.~ -]*$/;
/** systemd expands `%` specifiers in Description= and a trailing `\` continues the line. */
const UNIT_TEXT = /^[\x20-\x24\x26-\x5b\x5d-\x7e]+$/;

function checkUnitText(what: string, value: string): string {
  return assertMatches(what, value, UNIT_TEXT, "printable text without '%', '\\' or line breaks");
}

/** Renders the oneshot service a backup timer starts. */
export function renderBackupService(o: BackupServiceOptions): string {
  const description = checkUnitText("backup service description", o.description);
  const user = assertMatches("backup service user", o.user, UNIX_NAME, "a Unix user name");
  const [program, ...args] = o.execStart.split(" ");
  assertPath("backup service execStart", program ?? "");
  // Arguments are plain words: systemd would expand `%` and `$` and read quotes.
  args.forEach((a, i) => assertMatches(`backup service execStart argument ${i + 1}`, a, /^[A-Za-z0-9._@+=:,/-]+$/, "a plain word"));
  const id = assertName("backup service syslogIdentifier", o.syslogIdentifier);
  return renderLines([
    managedHeader("#"),
    "[Unit]",
    `Description=${description}`,
    // The job talks to the object store.
    "After=network-online.target",
    "Wants=network-online.target",
    "",
    "[Service]",
    // oneshot: `systemctl start` returns when the job is done, with its exit status, and
    // there is no start timeout (a large backup may take hours).
    "Type=oneshot",
    `User=${user}`,
    `ExecStart=${o.execStart}`,
    `SyslogIdentifier=${id}`,
    // The database and the app come first: the job gets leftover CPU and disk time.
    "Nice=10",
    "IOSchedulingClass=idle",
    // No PrivateTmp: pgBackRest's locks live in /tmp/pgbackrest and must be seen by every
    // pgBackRest process on the host (archive-push, a backup started by hand).
  ]);
}

/** Renders the timer that starts the same-named backup service. */
export function renderBackupTimer(o: BackupTimerOptions): string {
  const description = checkUnitText("backup timer description", o.description);
  if (o.onCalendar.length > 200) throw new Error(`backup timer onCalendar is longer than 200 characters`);
  const onCalendar = assertMatches(
    "backup timer onCalendar",
    o.onCalendar,
    ON_CALENDAR,
    'a systemd OnCalendar expression, e.g. "*-*-* 03:00:00" or daily',
  );
  const delay = assertInt("backup timer randomizedDelaySeconds", withDefault(o.randomizedDelaySeconds, 0), 0, 86400);
  return renderLines([
    managedHeader("#"),
    "[Unit]",
    `Description=${description} (schedule)`,
    "",
    "[Timer]",
    `OnCalendar=${onCalendar}`,
    // A run missed while the host was down happens as soon as it is back up.
    "Persistent=true",
    delay > 0 && `RandomizedDelaySec=${delay}`,
    "",
    "[Install]",
    "WantedBy=timers.target",
  ]);
}
