/**
 * A check of systemd calendar expressions (OnCalendar=, systemd.time(7)) for the subset a
 * backup schedule needs, so a typo is refused with the config key before any server
 * changes instead of failing later when the timer unit loads. Pure.
 *
 * Accepted: the shorthands (`daily`, `weekly`, `hourly`, ...), and `[WEEKDAYS] [DATE] [TIME]`
 * where WEEKDAYS is `Mon`, `Mon,Wed`, `Mon..Fri`; DATE is `[Y-]M-D` and TIME `H:M[:S]`, each
 * component `*`, a number, a list (`1,15`), a range (`1..5`) or a repetition (`0/15`), and
 * the day may be counted from the month's end (`*-02~03`); an optional trailing `UTC`.
 */

const SHORTHANDS = new Set(["minutely", "hourly", "daily", "monthly", "weekly", "yearly", "annually", "quarterly", "semiannually"]);
const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];

/** `part` (one component: `*`, `5`, `1,15`, `1..5`, `0/15`) within [min, max], or why not. */
function componentProblem(name: string, part: string, min: number, max: number): string | undefined {
  for (const item of part.split(",")) {
    const [base, step, ...more] = item.split("/");
    if (more.length || base === undefined || base === "") return `${name} "${part}" is not a number, list, range or repetition`;
    if (step !== undefined && !/^\d+$/.test(step)) return `${name} "${part}" repeats by "${step}", which is not a number`;
    if (base === "*") continue;
    const bounds = base.split("..");
    if (bounds.length > 2) return `${name} "${part}" is not a range`;
    for (const b of bounds) {
      if (!/^\d+$/.test(b)) return `${name} "${b}" is not a number`;
      const n = Number(b);
      if (n < min || n > max) return `${name} ${n} is out of ${min}-${max}`;
    }
  }
  return undefined;
}

function weekdaysProblem(part: string): string | undefined {
  for (const item of part.split(",")) {
    for (const d of item.split("..")) {
      if (!WEEKDAYS.includes(d.toLowerCase())) return `"${d}" is not a weekday (Mon ... Sun)`;
    }
  }
  return undefined;
}

function dateProblem(part: string): string | undefined {
  const tilde = part.includes("~");
  const fields = part.replace("~", "-").split("-");
  if (tilde && fields.length < 2) return `date "${part}" is not [YEAR-]MONTH~DAY`;
  if (fields.length < 2 || fields.length > 3) return `date "${part}" is not [YEAR-]MONTH-DAY`;
  const [year, month, day] = fields.length === 3 ? fields : ["*", ...fields];
  return componentProblem("year", year!, 1970, 2199) ?? componentProblem("month", month!, 1, 12) ?? componentProblem("day", day!, 1, 31);
}

function timeProblem(part: string): string | undefined {
  const fields = part.split(":");
  if (fields.length < 2 || fields.length > 3) return `time "${part}" is not HOUR:MINUTE[:SECOND]`;
  const [h, m, s] = fields;
  // Seconds may carry a fraction in systemd; we do not need it.
  return componentProblem("hour", h!, 0, 23) ?? componentProblem("minute", m!, 0, 59) ?? (s === undefined ? undefined : componentProblem("second", s, 0, 59));
}

/** Why `expr` is not a calendar expression we accept, or undefined when it is. */
export function calendarProblem(expr: string): string | undefined {
  const words = expr.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "is empty";
  if (words.length === 1 && SHORTHANDS.has(words[0]!.toLowerCase())) return undefined;
  // A trailing time zone: UTC only (our hosts keep UTC; a named zone is not worth the risk).
  if (words.length > 1 && words[words.length - 1] === "UTC") words.pop();
  let i = 0;
  const problems: (string | undefined)[] = [];
  if (/^[A-Za-z]/.test(words[0]!)) problems.push(weekdaysProblem(words[i++]!));
  const rest = words.slice(i);
  if (rest.length === 0 && i === 0) return "names no weekday, date or time";
  if (rest.length > 2) return `has ${rest.length} parts after the weekdays; expected [DATE] [TIME]`;
  for (const w of rest) {
    if (w.includes(":")) problems.push(timeProblem(w));
    else if (w.includes("-") || w.includes("~")) problems.push(dateProblem(w));
    else problems.push(`"${w}" is neither a date (Y-M-D) nor a time (H:M:S)`);
  }
  if (rest.length === 2 && (!rest[1]!.includes(":") || rest[0]!.includes(":"))) problems.push("has the date and the time in the wrong order (DATE TIME)");
  return problems.find((p) => p !== undefined);
}
