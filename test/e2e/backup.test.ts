/**
 * End to end, data that survives: a prod-shaped fleet (load balancer, two app nodes,
 * database primary and replica) backed up with pgBackRest to a real S3 server
 * (scripts/s3serve, versitygw over HTTPS with its own CA), uploads shared through the
 * same store, the database host's disk destroyed and the host rebuilt by `up --refresh`
 * from the backup, a point-in-time restore, retention, the restore drill, and the
 * secrets kept out of state, output, journal and files. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { engineEnv, ROOT, stateText, type TestStack } from "../helpers/pulumi.ts";
import { freshObjectStore, type ObjectStore } from "../helpers/objectStore.ts";
import { startRealStack, stopRealStack, waitForPage, INVENTORY, type Fleet } from "../helpers/testhosts.ts";
import { waitFor } from "../helpers/wait.ts";

const NAMES = ["lb", "app1", "app2", "db", "replica"];
const ADDR: Record<string, string> = Object.fromEntries(NAMES.map((n, i) => [n, `198.18.0.${10 + i}`]));
const STACK = "e2e-backup";
const BACKUPS = "fleet-backups";
const MEDIA = "fleet-media";

function config(s3: ObjectStore, overrides: { secretAccessKey?: string } = {}): Record<string, { value: string; secret?: boolean }> {
  const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  const target = (bucket: string) => ({
    endpoint: s3.endpoint, bucket, region: s3.region, pathStyle: true, caFile: s3.caFile,
    accessKeyId: s3.accessKeyId, secretAccessKey: overrides.secretAccessKey ?? s3.secretAccessKey,
  });
  return {
    "django-fleet:inventoryFile": c(INVENTORY),
    "django-fleet:hosts": c([
      { name: "lb", roles: ["loadBalancer", "logging"] },
      { name: "app1", roles: ["app"] },
      { name: "app2", roles: ["app", "worker", "beat"] },
      { name: "db", roles: ["db", "broker"] },
      { name: "replica", roles: ["dbReplica"] },
    ]),
    "django-fleet:app": c({
      name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", ref: "main",
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
    }),
    "django-fleet:backup": { ...c({ target: target(BACKUPS), retention: { daily: 2, weekly: 1, monthly: 1 } }), secret: true },
    "django-fleet:media": { ...c({ storage: "s3", target: target(MEDIA) }), secret: true },
  };
}

const sql = (q: string) => `cd / && runuser -u postgres -- psql -XAt -v ON_ERROR_STOP=1 -d fleetdemo -c ${JSON.stringify(q).replace(/\$/g, "\\$")}`;

describe("backups, shared media and restores on five real servers", () => {
  let fleet: Fleet;
  let t: TestStack;
  let s3: ObjectStore;
  let output = "";
  const log = (s: string) => { output += s; };
  const site = `http://${ADDR.lb}/`;
  const onDb = (script: string) => fleet.ssh("db", script);
  /** Starts a oneshot unit and waits for it; its journal is the error when it fails. */
  const runUnit = (unit: string) => onDb(`systemctl start ${unit} || { journalctl -u ${unit} -n 60 --no-pager -o cat >&2; exit 1; }`);
  const rows = async () => (await onDb(sql("SELECT string_agg(text, ',' ORDER BY id) FROM notes_note WHERE text LIKE 'bk-%'"))).trim();
  /** Forces the current WAL segment out and waits until pgBackRest has archived it. */
  const archiveNow = async () => {
    const wal = (await onDb(sql("SELECT pg_walfile_name(pg_switch_wal())"))).trim();
    for (let i = 0; i < 60; i++) {
      const last = (await onDb(sql("SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver"))).trim();
      if (last >= wal) return;
      await new Promise((r) => setTimeout(r, 1000));
    }
    throw new Error(`WAL ${wal} was not archived within 60 s`);
  };

  beforeAll(async () => {
    ({ fleet, t } = await startRealStack(NAMES, STACK, {}));
    s3 = await freshObjectStore();
    await s3.createBucket(BACKUPS);
    await s3.createBucket(MEDIA);
    await t.stack.setAllConfig(config(s3));
  }, 1_200_000);
  afterAll(async () => {
    await stopRealStack(fleet, t, log);
    await s3?.stop({ wipe: true });
  }, 900_000);

  it("up backs the database up: WAL archived, a first full backup, the timers on", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    console.log(`backup fleet first up: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.outputs.backup!.value).toEqual({
      endpoint: s3.endpoint, bucket: BACKUPS, region: "us-east-1", prefix: `django-fleet/${STACK}`,
      tool: "pgbackrest", schedule: "*-*-* 03:00:00", retention: { daily: 2, weekly: 1, monthly: 1 },
    });
    const keys = await s3.listKeys(BACKUPS, `django-fleet/${STACK}/pgbackrest/`);
    expect(keys.some((k) => k.includes("/backup/django-fleet/") && k.endsWith("backup.manifest"))).toBe(true);
    expect(keys.some((k) => k.includes("/archive/django-fleet/"))).toBe(true);
    expect((await onDb("systemctl is-active django-fleet-backup.timer django-fleet-restore-drill.timer")).trim().split("\n")).toEqual(["active", "active"]);
    expect((await onDb("stat -c '%a %U %G' /etc/pgbackrest/pgbackrest.conf")).trim()).toBe("640 root postgres");
  }, 1_500_000);

  it("an upload through the load balancer is stored in S3 and served by both app nodes", async () => {
    const body = execFileSync("curl", ["-sf", "--max-time", "20", "-F", "file=@-;filename=hello.txt", `${site}upload/`], { input: "shared media works\n", encoding: "utf8" });
    const stored = JSON.parse(body) as { name: string; host: string };
    expect(stored.name).toMatch(/^uploads\/hello.*\.txt$/);
    expect((await s3.listKeys(MEDIA, "media/uploads/")).some((k) => k === `media/${stored.name}`)).toBe(true);
    const servedBy = new Set<string>();
    for (let i = 0; i < 20 && servedBy.size < 2; i++) {
      const out = execFileSync("curl", ["-sf", "-D", "-", "--max-time", "10", `${site}files/${stored.name}`], { encoding: "utf8" });
      expect(out).toContain("shared media works");
      servedBy.add(/^x-served-by:\s*(\S+)/im.exec(out)![1]!);
    }
    expect([...servedBy].sort()).toEqual(["app1", "app2"]);
  }, 120_000);

  it("the db host's disk is lost; up --refresh restores it from the backup and the archive, and the replica streams again", async () => {
    await onDb(sql("INSERT INTO notes_note (text, created) VALUES ('bk-a1', now()), ('bk-a2', now())"));
    await runUnit("django-fleet-backup.service");
    await onDb(sql("INSERT INTO notes_note (text, created) VALUES ('bk-b1', now())"));
    await archiveNow();
    const before = await rows();
    expect(before).toBe("bk-a1,bk-a2,bk-b1");

    const t0 = Date.now();
    fleet.rebuild("db");
    expect((await onDb("test -d /var/lib/postgresql && echo yes || echo no")).trim()).toBe("no");
    const res = await t.stack.up({ refresh: true, onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    const told = await onDb("journalctl -t django-fleet-restore -o cat --no-pager");
    expect(told).toContain("the cluster is bare and the repository has backups");
    console.log(`restore step: ${/restored and promoted in \d+ s/.exec(told)?.[0]}`);
    await waitForPage(site, (b) => b.includes("<li"));
    console.log(`bare database host to serving site: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(await rows()).toBe(before);
    // The replica follows the restored primary, with the rows.
    await waitFor("the replica to stream from the restored primary",
      async () => (await fleet.ssh("replica", "cd / && runuser -u postgres -- psql -XAtc \"SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'\"")).trim(),
      (n) => n === "1", { timeoutMs: 60_000, intervalMs: 1000 });
    await onDb(sql("INSERT INTO notes_note (text, created) VALUES ('bk-r1', now())"));
    expect(await waitFor("the new row to reach the replica", async () => (await fleet.ssh("replica", sql("SELECT count(*) FROM notes_note WHERE text LIKE 'bk-%'"))).trim(),
      (n) => n === "4", { timeoutMs: 30_000 })).toBe("4");
  }, 1_500_000);

  it("retention: a second backup on the same day expires the first (daily keeps the newest of each day)", async () => {
    const fulls = async () => JSON.parse(await onDb("runuser -u postgres -- pgbackrest --stanza=django-fleet --output=json info"))[0].backup.map((b: { label: string }) => b.label) as string[];
    const before = await fulls();
    await runUnit("django-fleet-backup.service");
    const after = await fulls();
    const info = JSON.parse(await onDb("runuser -u postgres -- pgbackrest --stanza=django-fleet --output=json info"))[0].backup[0] as {
      timestamp: { start: number; stop: number }; info: { size: number; repository: { size: number } } };
    console.log(`full backup: ${info.timestamp.stop - info.timestamp.start} s, database ${(info.info.size / 1e6).toFixed(1)} MB, in the repository ${(info.info.repository.size / 1e6).toFixed(1)} MB (compressed, encrypted)`);
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
    const journal = await onDb("journalctl -u django-fleet-backup.service -o cat --no-pager | tail -n 40");
    expect(journal).toMatch(/expire/i);
  }, 600_000);

  it("point-in-time restore: rows before the moment are back, rows after are gone, and preview shows no changes", async () => {
    await onDb(sql("INSERT INTO notes_note (text, created) VALUES ('bk-c1', now())"));
    await new Promise((r) => setTimeout(r, 1500));
    const moment = (await onDb(sql("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'"))).trim();
    await new Promise((r) => setTimeout(r, 1500));
    await onDb(sql("INSERT INTO notes_note (text, created) VALUES ('bk-d1', now())"));
    await archiveNow();
    const started = Date.now();
    const out = execFileSync("npm", ["run", "--silent", "restore", "--", "--stack", STACK, "--to", moment], {
      cwd: ROOT, encoding: "utf8", env: { ...process.env, ...engineEnv(t.backendDir) }, maxBuffer: 64 << 20,
    });
    console.log(`point-in-time restore, converged: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(out).toContain("preview shows no changes");
    const now = await rows();
    expect(now).toContain("bk-c1");
    expect(now).not.toContain("bk-d1");
    const preview = await t.stack.preview({ diff: true });
    expect(Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0)).toEqual([]);
  }, 1_500_000);

  it("the restore drill restores the latest backup beside production and reports rows per table", async () => {
    await runUnit("django-fleet-restore-drill.service");
    const res = await t.stack.up({ refresh: true, onOutput: log });
    const drill = res.outputs.lastRestoreDrill!.value as { ok: boolean; backupAgeSeconds: number; tables: Record<string, number>; durationSeconds?: number };
    console.log(`restore drill: ${JSON.stringify(drill)}`);
    expect(drill.ok).toBe(true);
    expect(drill.tables["public.notes_note"]).toBeGreaterThan(0);
    expect(drill.backupAgeSeconds).toBeGreaterThanOrEqual(0);
    // Production was not touched: still a primary, still the same rows.
    expect((await onDb(sql("SELECT pg_is_in_recovery()"))).trim()).toBe("f");
  }, 900_000);

  it("the keys and the encryption passphrase are in no plain state, output, journal or world-readable file", async () => {
    const cipher = (await t.stack.outputs()).backupEncryptionKey!.value as string;
    expect(cipher.length).toBeGreaterThanOrEqual(40);
    const state = stateText(t.backendDir);
    for (const secret of [s3.secretAccessKey, cipher]) {
      expect(state).not.toContain(secret);
      expect(output).not.toContain(secret);
      for (const h of ["db", "app1", "lb"]) {
        expect(await fleet.ssh(h, `journalctl -o cat --no-pager | grep -cF -- ${JSON.stringify(secret)} || true`)).toBe("0\n");
        // World-readable files holding it: none.
        expect(await fleet.ssh(h, `grep -rlsF -- ${JSON.stringify(secret)} /etc /srv /usr/local /var/lib/django-fleet 2>/dev/null | xargs -r stat -c '%a %n' | awk '$1 ~ /[4567]$/' || true`)).toBe("");
      }
    }
  }, 300_000);

  it("a wrong secret key fails up at the backup step with pgBackRest's error, naming the key, and leaves archiving working", async () => {
    await t.stack.setAllConfig(config(s3, { secretAccessKey: "wrong-secret-key-000" }));
    const err = await t.stack.up({ onOutput: log }).then(() => "", (e: unknown) => String(e));
    expect(err).toMatch(/backup\.target/);
    expect(err).toMatch(/pgBackRest|ERROR: \[\d+\]/);
    await t.stack.setAllConfig(config(s3));
    // The live configuration kept the good key: WAL still reaches the repository.
    await archiveNow();
  }, 600_000);
});
