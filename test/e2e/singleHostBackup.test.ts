/**
 * End to end, the single-host stack with backups: one Debian 13 server holding every
 * role, uploads kept on its disk (`media.storage: local`), backed up with the database
 * to the real object store (scripts/s3serve). Uploads lost from the disk come back on
 * `up --refresh`. Nothing is mocked.
 *
 * It opens with the killed runs: the first `up` on the bare host, and each re-run after
 * it, is SIGKILLed (its whole process group) at five points, then one more `up` (the
 * documented recovery) must converge: every service on the config we wrote, live.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { engineEnv, type TestStack } from "../helpers/pulumi.ts";
import { changes } from "../helpers/steps.ts";
import { expectNoSurvivors, killWhen, startUp } from "../helpers/killedRuns.ts";
import { freshObjectStore, type ObjectStore } from "../helpers/objectStore.ts";
import { INVENTORY, startRealStack, stopRealStack, waitForPage, type Fleet } from "../helpers/testhosts.ts";

const HOST = "solo";
const SITE = "http://198.18.0.10/";

describe("one server with backups: the database and the uploads on its disk", () => {
  let fleet: Fleet;
  let t: TestStack;
  let s3: ObjectStore;
  let output = "";
  const log = (s: string) => { output += s; };
  const on = (script: string) => fleet.ssh(HOST, script);

  beforeAll(async () => {
    ({ fleet, t } = await startRealStack([HOST], "e2e-solo", {}));
    s3 = await freshObjectStore();
    await s3.createBucket("solo-backups");
    const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
    await t.stack.setAllConfig({
      "django-fleet:inventoryFile": c(INVENTORY),
      "django-fleet:hosts": c([{ name: HOST, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] }]),
      "django-fleet:app": c({
        name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", ref: "main",
        settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      }),
      "django-fleet:backup": { ...c({ target: {
        endpoint: s3.endpoint, bucket: "solo-backups", pathStyle: true, caFile: s3.caFile, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey,
      } }), secret: true },
    });
  }, 1_200_000);
  afterAll(async () => {
    await stopRealStack(fleet, t, log);
    await s3?.stop({ wipe: true });
  }, 600_000);

  it("a first up killed at five points re-runs to a fleet running our config", async () => {
    const env = engineEnv(t.backendDir);
    // A process of the host's that is running now (apt, pip): the kill then lands mid-step.
    const running = (...names: string[]) => async () =>
      (await on(`grep -lx ${names.map((n) => `-e ${n}`).join(" ")} /proc/[0-9]*/comm 2>/dev/null | head -1 || true`)).trim() !== "";
    const points: Array<[string, () => Promise<boolean>]> = [
      // 1: the package install is under way on the host (apt survives the kill there).
      ["solo-packages", running("apt-get", "dpkg", "http")],
      // 2: the re-run's same step has started: it waits for the first one's apt.
      ["solo-packages", async () => true],
      // 3: the app's virtualenv is being built (pip or uv running on the host).
      ["solo-fleetdemo-build", running("pip", "uv", "python3")],
      // 4: migrate has started.
      ["fleetdemo-migrate", async () => true],
      // 5: nginx's site files are written and its reload is due.
      ["lb-nginx", async () => true],
    ];
    for (const [i, [step, ready]] of points.entries()) {
      const started = Date.now();
      const run = startUp("e2e-solo", env, `kill${i + 1}`);
      const after = await killWhen(run, step, 600_000, ready);
      const gone = await expectNoSurvivors(run.mark, 30_000);
      log(run.output());
      console.log(`kill ${i + 1} at "${step}" after ${(after / 1000).toFixed(1)} s; no local process left ${(gone / 1000).toFixed(1)} s later (${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
    }
    // The recovery: `up` again, as the README says.
    const started = Date.now();
    const recovery = startUp("e2e-solo", env, "recovery");
    const code = await recovery.ended;
    log(recovery.output());
    expect(code, recovery.output().slice(-4000)).toBe("0");
    console.log(`recovery up: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await expectNoSurvivors(recovery.mark, 30_000);

    // nginx serves our site (with a Celery round trip through RabbitMQ), not Debian's page.
    const body = await waitForPage(SITE, (b) => b.includes('<p id="task">add=5 on'));
    expect(body).toContain('<p id="task">add=5 on');
    expect(body).not.toContain("Welcome to nginx");
    // RabbitMQ listens where we told it (loopback only: its clients are on this host).
    expect((await on("ss -ltnH 'sport = :5672' | awk '{print $4}' | sort -u")).trim()).toBe("127.0.0.1:5672");
    // PostgreSQL runs on our settings and has loaded our pg_hba.conf and conf.d file.
    const pg = (await on(String.raw`
etc=$(ls -d /etc/postgresql/*/main | head -1)
sed -n "s/^listen_addresses = '\(.*\)'$/\1/p" "$etc/conf.d/django-fleet.conf"
runuser -u postgres -- psql -XAtc 'SHOW listen_addresses'
loaded=$(runuser -u postgres -- psql -XAtc 'SELECT extract(epoch FROM pg_conf_load_time())::bigint')
for f in "$etc/pg_hba.conf" "$etc/conf.d/django-fleet.conf"; do [ "$loaded" -ge "$(stat -c %Y "$f")" ] && echo loaded || echo "stale $f"; done
`)).trim().split("\n");
    expect(pg[1]).toBe(pg[0]);
    expect(pg.slice(2)).toEqual(["loaded", "loaded"]);
    // rsyslog runs with our snippets: started after they were written, listening on the log
    // port (one socket or two: IPv4 and IPv6).
    expect((await on(String.raw`
started=$(date -d "$(systemctl show -p ExecMainStartTimestamp --value rsyslog)" +%s)
for f in /etc/rsyslog.d/10-django-fleet-server.conf /etc/rsyslog.d/90-django-fleet-forward.conf; do [ "$started" -ge "$(stat -c %Y "$f")" ] && echo loaded || echo "stale $f"; done
[ "$(ss -ltnH 'sport = :10514' | wc -l)" -ge 1 ] && echo listening || echo "not listening"
`)).trim().split("\n")).toEqual(["loaded", "loaded", "listening"]);
    expect((await t.stack.preview({ expectNoChanges: true, onOutput: log })).changeSummary).not.toHaveProperty("create");
  }, 2_400_000);

  it("up deploys with a first database backup and the uploads backup timer", async () => {
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect((await on("systemctl is-active django-fleet-backup.timer django-fleet-media-backup.timer")).trim().split("\n")).toEqual(["active", "active"]);
    expect((await on("stat -c '%a %U' /etc/django-fleet/restic-media.env")).trim()).toBe("600 root");
  }, 900_000);

  it("an upload on disk is backed up, lost, and back after up --refresh", async () => {
    const stored = JSON.parse(execFileSync("curl", ["-sf", "--max-time", "20", "-F", "file=@-;filename=kept.txt", `${SITE}upload/`],
      { input: "an upload worth keeping\n", encoding: "utf8" })) as { name: string };
    const mediaRoot = "/srv/fleetdemo/public/media";
    expect((await on(`cat ${mediaRoot}/${stored.name}`))).toBe("an upload worth keeping\n");
    await on("systemctl start django-fleet-media-backup.service || { journalctl -u django-fleet-media-backup -n 40 --no-pager -o cat >&2; exit 1; }");
    expect((await s3.listKeys("solo-backups", "django-fleet/e2e-solo/media/")).some((k) => k.includes("/snapshots/"))).toBe(true);
    await on(`rm -rf ${mediaRoot}/*`);
    const started = Date.now();
    const res = await t.stack.up({ refresh: true, onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    console.log(`uploads restored by up --refresh: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(await on(`cat ${mediaRoot}/${stored.name}`)).toBe("an upload worth keeping\n");
    expect((await on(`stat -c '%U' ${mediaRoot}/${stored.name}`)).trim()).toBe("fleetdemo");
    expect(await on("journalctl -t django-fleet-restore -o cat --no-pager")).toContain("restoring the latest");
    const served = execFileSync("curl", ["-sf", "--max-time", "10", `${SITE}files/${stored.name}`], { encoding: "utf8" });
    expect(served).toBe("an upload worth keeping\n");
  }, 900_000);

  it("uploads have their own backup key; a repository keyed with the database backups' key is re-keyed by one up, snapshots kept", async () => {
    // restic as root with the uploads' env file; OLD: the pgBackRest cipher (database backups).
    const restic = String.raw`
set -euo pipefail
set -a; . /etc/django-fleet/restic-media.env; set +a
r() { restic -o s3.bucket-lookup=path --cacert "$RESTIC_CACERT" "$@" </dev/null; }
old=$(sed -n 's/^repo1-cipher-pass=//p' /etc/pgbackrest/pgbackrest.conf)
opens() { r cat config >/dev/null 2>&1 && echo media || echo -; RESTIC_PASSWORD="$old" r cat config >/dev/null 2>&1 && echo database || echo -; }
snapshots() { r snapshots --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }
`;
    expect((await on(`${restic}\n[ -n "$old" ] && [ "$old" != "$RESTIC_PASSWORD" ] && echo differ; ! grep -qF -- "$old" /etc/django-fleet/restic-media.env && echo apart; opens`)).trim().split("\n"))
      .toEqual(["differ", "apart", "media", "-"]);
    const before = (await on(`${restic}\nsnapshots`)).trim();
    // As a stack made before the keys were separate left it: the database key only.
    expect((await on(`${restic}
k=$(mktemp); trap 'rm -f "$k"' EXIT; printf '%s\n' "$old" > "$k"
r key add --new-password-file "$k" >/dev/null
id=$(r key list --json | python3 -c 'import json,sys; print(next(k["id"] for k in json.load(sys.stdin) if k["current"]))')
RESTIC_PASSWORD="$old" r key remove "$id" >/dev/null
opens`)).trim().split("\n")).toEqual(["-", "database"]);

    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual(["update fleetdemo-media-backup-key"]);
    expect((await t.stack.up({ onOutput: log })).summary.result).toBe("succeeded");
    expect((await on(`${restic}\nopens; snapshots`)).trim().split("\n")).toEqual(["media", "-", before]);
    expect(await changes(t, log)).toEqual([]);
  }, 900_000);
});
