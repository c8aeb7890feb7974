/**
 * End to end, the single-host stack with backups: one Debian 13 server holding every
 * role, uploads kept on its disk (`media.storage: local`), backed up with the database
 * to the real object store (scripts/s3serve). Uploads lost from the disk come back on
 * `up --refresh`. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import type { TestStack } from "../helpers/pulumi.ts";
import { freshObjectStore, type ObjectStore } from "../helpers/objectStore.ts";
import { INVENTORY, startRealStack, stopRealStack, type Fleet } from "../helpers/testhosts.ts";

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
      "django-fleet:hosts": c([{ name: HOST, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker"] }]),
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
});
