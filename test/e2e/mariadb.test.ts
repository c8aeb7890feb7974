/**
 * End to end, the second engine and the second broker: MariaDB with binlog replication
 * to a replica, and Redis as the Celery broker, on two freshly booted Debian 12 servers
 * (the older supported release: its PostgreSQL-free paths and Python 3.11). First, a
 * project that needs Python >= 3.12 is refused there before anything changes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stateText, type TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { INVENTORY, startRealStack, stopRealStack, waitForPage, type Fleet } from "../helpers/testhosts.ts";

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

  beforeAll(async () => ({ fleet, t } = await startRealStack(["maria1@bookworm", "maria2@bookworm"], "e2e-mariadb", config)), 600_000);
  afterAll(() => stopRealStack(fleet, t, log), 600_000);

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
    await t.stack.setAllConfig(config);
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
    let seen = "";
    for (let i = 0; i < 30 && seen !== "1"; i++) {
      seen = (await fleet.ssh("maria2", "mariadb -N -e \"SELECT COUNT(*) FROM fleetdemo.notes_note WHERE text = 'written-on-primary'\"")).trim();
      if (seen !== "1") await new Promise((r) => setTimeout(r, 1000));
    }
    expect(seen).toBe("1");
    expect(await fleet.ssh("maria2", "mariadb -N -e 'SELECT @@read_only'")).toBe("1\n");
  }, 120_000);

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
