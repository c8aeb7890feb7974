import { describe, expect, it } from "vitest";
import { calendarProblem } from "../../config/onCalendar.ts";
import { ConfigError, parseConfig } from "../../config/load.ts";

describe("calendarProblem: systemd calendar expressions a backup schedule may use", () => {
  it.each([
    "*-*-* 03:00:00", "Sun *-*-* 04:30:00", "daily", "weekly", "Hourly", "03:00", "Mon..Fri 22:00",
    "Mon,Wed *-*-* 01:15:00", "*-*-01 00:00:00", "2027-01-* 12:00", "*-*-* *:0/15:00", "*-02~03 04:00",
    "*-*-* 03:00:00 UTC", "Sat", "*-*-1,15 02:00:00",
  ])("accepts %j", (expr) => {
    expect(calendarProblem(expr)).toBeUndefined();
  });

  it.each([
    ["banana", '"banana" is not a weekday (Mon ... Sun)'],
    ["*-*-* 25:99:00", "hour 25 is out of 0-23"],
    ["*-*-* 03:60", "minute 60 is out of 0-59"],
    ["*-13-01 03:00", "month 13 is out of 1-12"],
    ["*-*-32", "day 32 is out of 1-31"],
    ["Mon..Fry 03:00", '"Fry" is not a weekday (Mon ... Sun)'],
    ["03:00 *-*-*", "has the date and the time in the wrong order (DATE TIME)"],
    ["*-*-* 03:00:00 04:00", "has 3 parts after the weekdays; expected [DATE] [TIME]"],
    ["*-*-* 3", '"3" is neither a date (Y-M-D) nor a time (H:M:S)'],
    ["*-*-* 03:x0", 'minute "x0" is not a number'],
    ["*-*-* 03:00/y", 'minute "00/y" repeats by "y", which is not a number'],
    ["", "is empty"],
  ])("refuses %j: %s", (expr, why) => {
    expect(calendarProblem(expr)).toBe(why);
  });
});

describe("backup.schedule is refused up front, naming the key, the value and the fix", () => {
  const base = {
    "django-fleet:hosts": JSON.stringify([{ name: "a", address: "10.0.0.1", roles: ["loadBalancer", "app", "worker", "beat", "db", "broker"] }]),
    "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://example.com/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
  };
  it.each([
    ["banana", 'backup.schedule: is not a systemd calendar expression ("banana" is not a weekday (Mon ... Sun)); e.g. "*-*-* 03:00:00" or daily, got "banana". Fix: `npm run pulumi -- config set --path \'backup.schedule\' <value>`'],
    ["*-*-* 25:99:00", 'backup.schedule: is not a systemd calendar expression (hour 25 is out of 0-23); e.g. "*-*-* 03:00:00" or daily, got "*-*-* 25:99:00". Fix: `npm run pulumi -- config set --path \'backup.schedule\' <value>`'],
  ])("%j", (schedule, message) => {
    let problems: string[] = [];
    try {
      parseConfig({ ...base, "django-fleet:backup": JSON.stringify({ schedule }) });
    } catch (e) {
      if (e instanceof ConfigError) problems = e.problems;
    }
    expect(problems).toContain(message);
  });
});
