/**
 * End to end, the second engine and the second broker: MariaDB with binlog replication
 * to a replica, and Redis as the Celery broker, on two freshly booted Debian 12 servers
 * (the older supported release: its PostgreSQL-free paths and Python 3.11). First, a
 * project that needs Python >= 3.12 is refused there before anything changes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stateText, type TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { freshObjectStore, type ObjectStore } from "../helpers/objectStore.ts";
import { INVENTORY, startRealStack, stopRealStack, waitForPage, type Fleet } from "../helpers/testhosts.ts";
import { waitFor } from "../helpers/wait.ts";

const RETENTION = { daily: 3, weekly: 2, monthly: 3 };
/** Backups to the test object store (set once it runs): restic, with the retention above. */
let backupConfig: Record<string, { value: string; secret: boolean }> = {};

const config = {
  "django-fleet:inventoryFile": { value: INVENTORY },
  "django-fleet:hosts": { value: JSON.stringify([
    { name: "maria1", roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "cache", "logging"] },
    { name: "maria2", roles: ["dbReplica"] },
  ]) },
  "django-fleet:app": { value: JSON.stringify({
    name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", ref: "main",
    settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application",
    requirementsFile: "requirements-mysql.txt",
  }) },
  "django-fleet:database": { value: JSON.stringify({ engine: "mariadb" }) },
  "django-fleet:broker": { value: JSON.stringify({ kind: "redis" }) },
  // The cache shares the broker's Redis (database 1).
  "django-fleet:cache": { value: JSON.stringify({ kind: "redis" }) },
};

describe("MariaDB with a binlog replica, Redis broker, on two real servers", () => {
  let fleet: Fleet;
  let t: TestStack;
  let output = "";
  const log = (s: string) => { output += s; };

  let s3: ObjectStore;
  beforeAll(async () => {
    ({ fleet, t } = await startRealStack(["maria1@bookworm", "maria2@bookworm"], "e2e-mariadb", config));
    s3 = await freshObjectStore();
    await s3.createBucket("fleet-backups");
    backupConfig = { "django-fleet:backup": { secret: true, value: JSON.stringify({
      target: { endpoint: s3.endpoint, bucket: "fleet-backups", pathStyle: true, caFile: s3.caFile, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
      retention: RETENTION,
    }) } };
    await t.stack.setAllConfig({ ...config, ...backupConfig });
  }, 1_200_000);
  afterAll(async () => {
    await stopRealStack(fleet, t, log);
    await s3?.stop({ wipe: true });
  }, 600_000);

  it("a project that requires Python >= 3.12 is refused on Debian 12 before any change", async () => {
    await t.stack.setConfig("django-fleet:app", { value: JSON.stringify({
      name: "shop", repo: "git://198.18.0.1/fleetuv.git", ref: "main",
      settingsModule: "config.settings", wsgiModule: "config.wsgi:application",
    }) });
    const rec = stepRecorder();
    const started = Date.now();
    const err = await t.stack.up({ onEvent: rec.onEvent, onOutput: log }).then(() => "", (e: Error) => e.message);
    console.log(`requires-python refusal: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(err).toContain('requires Python ">=3.12" (pyproject.toml [project] requires-python), but host "maria1" runs Debian 12 (bookworm) with Python 3.11.2; nothing was installed');
    expect(err).toContain("Fix: run the app on hosts with Debian 13 (trixie), Python 3.13.5");
    expect(rec.steps).toEqual([]);
    // Nothing reached the servers: no app user, no packages beyond the base system.
    expect(await fleet.ssh("maria1", "id shop >/dev/null 2>&1 && echo user || echo none; ls /srv; dpkg -l mariadb-server 2>/dev/null | grep -c ^ii || true")).toBe("none\n0\n");
    await t.stack.setAllConfig({ ...config, ...backupConfig });
  }, 300_000);

  it("up deploys the app on MariaDB", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`mariadb first up on two bare servers: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    expect(res.outputs.database!.value).toEqual({ engine: "mariadb", host: "198.18.0.10", port: 3306, name: "fleetdemo", user: "fleetdemo" });
    expect(String(res.outputs.brokerUrl!.value)).toMatch(/^redis:\/\/:[A-Za-z0-9]{32}@198\.18\.0\.10:6379\/0$/);
  }, 900_000);

  it("the page shows rows from MariaDB and a Celery task that went through Redis", async () => {
    const body = await waitForPage("http://198.18.0.10/", (b) => b.includes('<p id="task">add=5 on maria1</p>'));
    expect(body).toContain('<li class="note">beta</li>');
    expect(body).toContain('<p id="task">add=5 on maria1</p>');
    expect(body).toMatch(/<p id="cache">RedisCache views=\d+<\/p>/);
    const engine = await fleet.ssh("maria1", "mariadb -N -e \"SELECT COUNT(*) FROM fleetdemo.notes_note\"");
    expect(Number(engine.trim())).toBeGreaterThanOrEqual(3);
  }, 180_000);

  it("a row written on the primary is read on the replica", async () => {
    await fleet.ssh("maria1", "mariadb -e \"INSERT INTO fleetdemo.notes_note (text, created) VALUES ('written-on-primary', NOW())\"");
    const seen = await waitFor("the row written on the primary to reach the replica",
      async () => (await fleet.ssh("maria2", "mariadb -N -e \"SELECT COUNT(*) FROM fleetdemo.notes_note WHERE text = 'written-on-primary'\"")).trim(),
      (n) => n === "1", { timeoutMs: 30_000, intervalMs: 1000 });
    expect(seen).toBe("1");
    expect(await fleet.ssh("maria2", "mariadb -N -e 'SELECT @@read_only'")).toBe("1\n");
  }, 120_000);

  it("backup: a dropped database is loaded back from restic by up --refresh, rows and all", async () => {
    expect((await s3.listKeys("fleet-backups", "django-fleet/e2e-mariadb/restic/")).some((k) => k.includes("/snapshots/"))).toBe(true);
    await fleet.ssh("maria1", "mariadb -e \"INSERT INTO fleetdemo.notes_note (text, created) VALUES ('before-the-loss', NOW())\"");
    await fleet.ssh("maria1", "systemctl start django-fleet-backup.service");
    const count = async () => (await fleet.ssh("maria1", "mariadb -N -e \"SELECT COUNT(*) FROM fleetdemo.notes_note\" 2>/dev/null || echo gone")).trim();
    const before = await count();
    await fleet.ssh("maria1", "mariadb -e 'DROP DATABASE fleetdemo'");
    expect(await count()).toBe("gone");
    const started = Date.now();
    const res = await t.stack.up({ refresh: true, onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    console.log(`mariadb database restored from restic by up --refresh: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(await fleet.ssh("maria1", "journalctl -t django-fleet-restore -o cat --no-pager")).toContain("the repository has a backup; loading the latest");
    expect(await count()).toBe(before);
    expect((await fleet.ssh("maria1", "mariadb -N -e \"SELECT COUNT(*) FROM fleetdemo.notes_note WHERE text = 'before-the-loss'\"")).trim()).toBe("1");
    await waitForPage("http://198.18.0.10/", (b) => b.includes("before-the-loss"));
  }, 900_000);

  it("retention: backups dated across months are pruned to the newest of each of the last 3 days, 2 weeks, 3 months", async () => {
    const env = "set -a; . /etc/django-fleet/restic.env; set +a; r() { restic -o s3.bucket-lookup=path --cacert \"$RESTIC_CACERT\" \"$@\"; }";
    // Older backups, dated with restic's --time, as if the timer had run for months.
    const day = 86_400_000;
    const now = Date.now();
    const dated = [2, 3, 6, 9, 12, 20, 33, 40, 61, 70, 95, 130].map((d) => new Date(now - d * day));
    for (const d of dated) {
      const stamp = d.toISOString().slice(0, 19).replace("T", " ");
      await fleet.ssh("maria1", `${env}; echo old | r backup --stdin --stdin-filename mariadb-all.sql --tag django-fleet --host django-fleet-mariadb --time '${stamp}' >/dev/null`);
    }
    // The timer's service: a backup now, then the retention.
    await fleet.ssh("maria1", "systemctl start django-fleet-backup.service");
    const snaps = JSON.parse(await fleet.ssh("maria1", `${env}; r snapshots --json --host django-fleet-mariadb --tag django-fleet`)) as { time: string }[];
    const kept = snaps.map((s) => new Date(s.time)).sort((a, b) => b.getTime() - a.getTime());
    // The rule, written out: for each period kind, the newest backup of each of the last N periods that have one.
    const all = [...kept, ...dated].sort((a, b) => b.getTime() - a.getTime()); // kept ⊆ all (today's backups are in kept)
    const isoWeek = (d: Date) => { const t = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate())); const dow = t.getUTCDay() || 7; t.setUTCDate(t.getUTCDate() + 4 - dow); const y = t.getUTCFullYear(); return `${y}-${Math.ceil(((t.getTime() - Date.UTC(y, 0, 1)) / day + 1) / 7)}`; };
    const buckets: [(d: Date) => string, number][] = [[(d) => d.toISOString().slice(0, 10), RETENTION.daily], [isoWeek, RETENTION.weekly], [(d) => d.toISOString().slice(0, 7), RETENTION.monthly]];
    const expected = new Set<number>();
    for (const [key, n] of buckets) {
      const seen = new Set<string>();
      for (const d of all) { const k = key(d); if (!seen.has(k) && seen.size < n) { seen.add(k); expected.add(d.getTime()); } }
    }
    // Today's older backups are only in `kept` if restic kept them, so compare on the dated ones and the newest.
    expect(kept[0]!.getTime()).toBe(all[0]!.getTime());
    const keptDated = kept.filter((d) => dated.some((x) => Math.abs(x.getTime() - d.getTime()) < 1000)).map((d) => Math.floor(d.getTime() / 1000));
    const expectedDated = dated.filter((d) => expected.has(d.getTime())).map((d) => Math.floor(d.getTime() / 1000)).sort((a, b) => b - a);
    expect(keptDated).toEqual(expectedDated);
    expect(kept.length).toBe(expected.size);
  }, 600_000);

  // Issue 20: the password we set is verified by logging in with it.
  it("the app's MariaDB password changed by hand is drift that one up sets back, in place", async () => {
    await fleet.ssh("maria1", `mariadb -e "ALTER USER 'fleetdemo'@'localhost' IDENTIFIED BY 'changed-by-hand'; ALTER USER 'fleetdemo'@'127.0.0.1' IDENTIFIED BY 'changed-by-hand'"`);
    await t.stack.refresh({ onOutput: log });
    const drift = await changes(t, log);
    expect(drift).toContain("update db-database-fleetdemo");
    expect(drift.filter((c) => !c.startsWith("update "))).toEqual([]);
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    await fleet.ssh("maria1", "systemctl restart fleetdemo-gunicorn.service");
    expect(await waitForPage("http://198.18.0.10/", (b) => b.includes('<li class="note">beta</li>'))).toContain('<li class="note">beta</li>');
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  it("Redis refuses clients without the password", async () => {
    const reply = await fleet.ssh("maria1", "redis-cli -h 127.0.0.1 PING 2>&1 || true");
    expect(reply).toContain("NOAUTH");
  }, 60_000);

  it("a second preview expects no changes, and no secret is in state or output", async () => {
    expect(await changes(t, log)).toEqual([]);
    const outs = await t.stack.outputs();
    const pw = outs.databasePassword!.value as string;
    expect(stateText(t.backendDir)).not.toContain(pw);
    expect(output).not.toContain(pw);
  }, 300_000);

  it("destroy keeps the database", async () => {
    const res = await t.stack.destroy({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect((await fleet.ssh("maria1", "mariadb -N -e \"SHOW DATABASES LIKE 'fleetdemo'\"")).trim()).toBe("fleetdemo");
  }, 600_000);
});
