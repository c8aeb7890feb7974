#!/usr/bin/python3
# Managed by django-fleet (pulumi). Manual edits are reverted on the next `pulumi up`.
"""Daily/weekly/monthly retention for pgBackRest full backups, with restic's rule.

pgBackRest only knows "keep the last N" (or N days); restic's `forget --keep-daily D
--keep-weekly W --keep-monthly M` keeps, for the last D days that have a backup, the newest
backup of each day, and likewise for the last W ISO weeks and the last M calendar months. A
backup kept by several rules counts for each of them. This script applies that rule to the
full backups of one stanza and runs `pgbackrest --stanza=S expire --set=LABEL` for each
full backup it does not keep (pgBackRest then also expires the differential and incremental
backups that depend on it, and the WAL only they needed). Differential and incremental
backups are not planned here.

A backup's time is its start time (what its label records, and what restic uses for a
snapshot), in UTC. The newest full backup is never expired, so the repository never ends up
without one.

Usage:
  pgbackrest-gfs.py --stanza S --daily D --weekly W --monthly M [--dry-run] [--info-json FILE]

--info-json reads the output of `pgbackrest --stanza=S --output=json info` from FILE instead
of running pgBackRest; --dry-run prints the plan ("keep LABEL (daily,weekly)", "expire LABEL")
and runs nothing. Python 3 standard library only: it runs on the database host.

Unlike restic 0.17 and later, this does not additionally keep the oldest backup while a rule
still has unused counts: it follows the rule as restic documents it up to 0.16 (the version
Debian 12 ships is 0.14).
"""
import argparse
import datetime
import json
import re
import subprocess
import sys

# pgBackRest labels a full backup YYYYMMDD-HHMMSSF (its start time).
FULL_LABEL = re.compile(r"^[0-9]{8}-[0-9]{6}F$")
STANZA = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class PlanError(Exception):
    """Bad input: the message says what and where."""


def fail(message):
    print("pgbackrest-gfs: error: %s" % message, file=sys.stderr)
    sys.exit(2)


def count(value):
    """A retention count for argparse: a whole number from 0 to 100000."""
    if not re.fullmatch(r"[0-9]{1,6}", value) or int(value) > 100000:
        raise argparse.ArgumentTypeError("%r is not a count from 0 to 100000" % value)
    return int(value)


def stanza_name(value):
    if not STANZA.fullmatch(value):
        raise argparse.ArgumentTypeError("%r is not a stanza name" % value)
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="pgbackrest-gfs.py",
        description="Expire the pgBackRest full backups that daily/weekly/monthly retention (restic's rule) does not keep.",
    )
    parser.add_argument("--stanza", required=True, type=stanza_name, help="pgBackRest stanza")
    parser.add_argument("--daily", required=True, type=count, help="keep the newest full backup of each of the last N days that have one")
    parser.add_argument("--weekly", required=True, type=count, help="... of each of the last N ISO weeks that have one")
    parser.add_argument("--monthly", required=True, type=count, help="... of each of the last N calendar months that have one")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, expire nothing")
    parser.add_argument("--info-json", metavar="FILE", help="read `pgbackrest info --output=json` from FILE instead of running pgBackRest")
    args = parser.parse_args(argv)
    if args.daily + args.weekly + args.monthly == 0:
        # restic treats an empty policy as "keep everything"; this refuses it instead of guessing.
        parser.error("--daily, --weekly and --monthly are all 0: the retention would keep nothing")
    return args


def read_info(args):
    if args.info_json is not None:
        try:
            with open(args.info_json, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise PlanError("cannot read %s: %s" % (args.info_json, e.strerror))
        source = args.info_json
    else:
        command = ["pgbackrest", "--stanza=%s" % args.stanza, "--output=json", "info"]
        try:
            done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        except OSError as e:
            raise PlanError("cannot run pgbackrest: %s" % e.strerror)
        if done.returncode != 0:
            raise PlanError("`%s` failed (exit %d): %s" % (" ".join(command), done.returncode, done.stderr.strip()))
        text = done.stdout
        source = "the output of `%s`" % " ".join(command)
    try:
        return json.loads(text)
    except ValueError as e:
        raise PlanError("%s is not JSON: %s" % (source, e))


def full_backups(info, stanza):
    """[(start epoch, label)] of the stanza's full backups, checked."""
    if not isinstance(info, list):
        raise PlanError("the info output is not a list of stanzas")
    entries = [s for s in info if isinstance(s, dict) and s.get("name") == stanza]
    if not entries:
        raise PlanError("stanza %s is not in the info output" % stanza)
    backups = entries[0].get("backup", [])
    if not isinstance(backups, list):
        raise PlanError("stanza %s: \"backup\" is not a list" % stanza)
    fulls = []
    for i, b in enumerate(backups):
        where = "stanza %s backup[%d]" % (stanza, i)
        if not isinstance(b, dict) or not isinstance(b.get("type"), str):
            raise PlanError("%s has no type" % where)
        if b["type"] != "full":
            continue
        label = b.get("label")
        if not isinstance(label, str) or not FULL_LABEL.fullmatch(label):
            raise PlanError("%s: label %r is not a full backup label (YYYYMMDD-HHMMSSF)" % (where, label))
        timestamp = b.get("timestamp")
        start = timestamp.get("start") if isinstance(timestamp, dict) else None
        if not isinstance(start, int) or isinstance(start, bool) or start < 0:
            raise PlanError("%s (%s): timestamp.start %r is not a Unix time" % (where, label, start))
        fulls.append((start, label))
    labels = [label for _, label in fulls]
    if len(set(labels)) != len(labels):
        raise PlanError("stanza %s lists a full backup label twice" % stanza)
    return fulls


def plan(fulls, daily, weekly, monthly):
    """[(label, [reasons])] newest first; an empty reason list means expire.

    restic's algorithm: walk the backups newest first; each rule with counts left keeps a
    backup whose day (ISO week, month) differs from that of the last backup it kept, and
    spends one count on it.
    """
    rules = [
        ("daily", daily, lambda t: (t.year, t.month, t.day)),
        ("weekly", weekly, lambda t: tuple(t.isocalendar()[:2])),
        ("monthly", monthly, lambda t: (t.year, t.month)),
    ]
    left = {name: n for name, n, _ in rules}
    last = {name: None for name, _, _ in rules}
    # Ties (same start second) are broken by label, so the plan never depends on input order.
    ordered = sorted(fulls, reverse=True)
    result = []
    for start, label in ordered:
        t = datetime.datetime.fromtimestamp(start, datetime.timezone.utc)
        reasons = []
        for name, _, bucket in rules:
            if left[name] > 0:
                value = bucket(t)
                if value != last[name]:
                    last[name] = value
                    left[name] -= 1
                    reasons.append(name)
        result.append((label, reasons))
    if result and not result[0][1]:
        # Cannot happen with any count above 0 (the newest backup opens every rule's first
        # bucket), but the newest backup must survive whatever the counts say.
        result[0] = (result[0][0], ["newest"])
    return result


def main(argv):
    args = parse_args(argv)
    try:
        fulls = full_backups(read_info(args), args.stanza)
    except PlanError as e:
        fail(str(e))
    if not fulls:
        print("no full backup in stanza %s: nothing to do" % args.stanza)
        return 0
    planned = plan(fulls, args.daily, args.weekly, args.monthly)
    kept = [label for label, reasons in planned if reasons]
    if not kept:
        fail("the plan keeps no backup; refusing to expire anything")
    for label, reasons in planned:
        print("keep %s (%s)" % (label, ",".join(reasons)) if reasons else "expire %s" % label)
    expire = [label for label, reasons in reversed(planned) if not reasons]
    print("%d full backups: %d kept, %d to expire%s" % (len(planned), len(kept), len(expire), " (dry run)" if args.dry_run else ""))
    if args.dry_run:
        return 0
    for label in expire:
        command = ["pgbackrest", "--stanza=%s" % args.stanza, "expire", "--set=%s" % label]
        print("$ %s" % " ".join(command), flush=True)
        if subprocess.run(command).returncode != 0:
            fail("`%s` failed; the remaining backups are left for the next run" % " ".join(command))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
