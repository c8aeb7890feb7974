/**
 * End to end, the dev topology: the real engine runs the real program (index.ts) against
 * one freshly booted Debian 13 server holding every role. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { engineEnv, ROOT, stateText, type TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { exitOf, WaitAborted, waitFor } from "../helpers/wait.ts";
import { INVENTORY, startRealStack, stopRealStack, waitForPage, type Fleet } from "../helpers/testhosts.ts";
import { publishVariant, V2_MARKER } from "../helpers/appCommits.ts";
import { startLoad, type LoadResult } from "../../bench/load.ts";

const HOST = "fleet-e2e";
/** The gunicorn unit's resource (its reload step is the killed run's kill point). */
const GUNICORN = "fleet-e2e-fleetdemo-gunicorn";

/** Engine events the CLI wrote so far (`--event-log`), one JSON object a line; a torn last line is left out. */
function engineEvents(file: string): EngineEventLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").flatMap((l) => {
    try { return l.trim() ? [JSON.parse(l) as EngineEventLine] : []; } catch { return []; }
  });
}
/** The last lines of a log file, for an error message. */
function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, "utf8").trim().split("\n").slice(-15).join("\n") : "(no output)";
}
type EngineEventLine = {
  resourcePreEvent?: { metadata?: { urn?: string } };
  resOutputsEvent?: { metadata?: { urn?: string } };
  summaryEvent?: unknown;
};

function devConfig(workers: number): Record<string, { value: string; secret?: boolean }> {
  const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  return {
    "django-fleet:inventoryFile": c(INVENTORY),
    "django-fleet:hosts": c([{ name: HOST, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] }]),
    "django-fleet:app": c({
      name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", ref: "main",
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      gunicorn: { workers },
    }),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
  };
}

/**
 * devConfig(2) at another ref, health-checked on /healthz (which the `unhealthy` commit
 * breaks) with a short timeout, and optionally an extra env var or another gunicorn
 * timeout (which changes the unit file's TimeoutStopSec).
 */
function deployConfig(ref: string, o: { env?: Record<string, string>; timeoutSeconds?: number } = {}): Record<string, { value: string }> {
  const base = devConfig(2);
  const app = JSON.parse(base["django-fleet:app"]!.value) as { gunicorn: Record<string, number> };
  return {
    ...base,
    "django-fleet:app": {
      value: JSON.stringify({
        ...app, ref, healthCheck: { path: "/healthz", timeoutSeconds: 15 },
        ...(o.env ? { env: o.env } : {}),
        gunicorn: { ...app.gunicorn, ...(o.timeoutSeconds ? { timeoutSeconds: o.timeoutSeconds } : {}) },
      }),
    },
  };
}

describe("dev stack on one real server", () => {
  let fleet: Fleet;
  let t: TestStack;
  let output = "";
  const log = (s: string) => { output += s; };
  let siteUrl = "";
  /** How many workers the gunicorn master has now. */
  const gunicornWorkers = async () => (await fleet.ssh(HOST, "pgrep -c -P $(systemctl show -p MainPID --value fleetdemo-gunicorn) || true")).trim();

  beforeAll(async () => ({ fleet, t } = await startRealStack([HOST], "e2e-dev", devConfig(2))), 600_000);
  afterAll(() => stopRealStack(fleet, t, log), 600_000);

  it("up turns the bare server into a working Django site", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`first up on a bare server: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    siteUrl = res.outputs.siteUrl!.value as string;
    expect(siteUrl).toBe("http://198.18.0.10/");
    expect(res.outputs.deployedCommit!.value).toBe(fleet.commit);
    expect(res.outputs.brokerUrl!.secret).toBe(true);
    expect(res.outputs.databasePassword!.secret).toBe(true);
  }, 900_000);

  it("the firewall table was loaded before the first service package was installed", async () => {
    // The unit's first journal line (epoch seconds), and the first dpkg `install` line of a
    // package that starts a listening service (dpkg.log has whole seconds: one is allowed).
    const out = await fleet.ssh(HOST, [
      "journalctl -q -o short-unix -u django-fleet-firewall.service --no-pager | head -n 1 | cut -d' ' -f1",
      "grep -E ' install (rabbitmq-server|erlang-base|postgresql-[0-9]+|nginx|rsyslog-gnutls|redis-server|memcached):' /var/log/dpkg.log | head -n 1 | cut -d' ' -f1,2 | xargs -r -I{} date -d {} +%s",
    ].join("; "));
    const [firewall, firstService] = out.trim().split("\n").map(Number);
    expect(firewall, `firewall unit's first log line and the first service package's install time:\n${out}`).toBeGreaterThan(0);
    expect(firstService, out).toBeGreaterThan(0);
    expect(firewall!).toBeLessThanOrEqual(firstService! + 1);
    // And it holds now: the table is loaded.
    expect(await fleet.ssh(HOST, "nft list table inet django_fleet >/dev/null && echo loaded")).toBe("loaded\n");
  }, 60_000);

  it("the page lists rows from PostgreSQL and a finished Celery task, through nginx", async () => {
    const body = await waitForPage(siteUrl, (b) => /<p id="task">add=5 on fleet-e2e<\/p>/.test(b) && /<p id="beat">beat on fleet-e2e<\/p>/.test(b));
    expect(body).toContain('<li class="note">alpha</li>');
    expect(body).toContain('<li class="note">gamma</li>');
    expect(body).toContain('<p id="task">add=5 on fleet-e2e</p>');
    expect(body).toContain('<p id="beat">beat on fleet-e2e</p>');
    const css = await fetch(`${siteUrl}static/notes/site.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get("server")).toMatch(/^nginx/);
    expect(await (await fetch(`${siteUrl}healthz`)).text()).toBe("ok");
  }, 120_000);

  it("the logging server holds the app's lines by host and program", async () => {
    const files = await waitFor("the app's log files on the logging server", () => fleet.ssh(HOST, "ls /var/log/fleet/fleet-e2e/"),
      (f) => f.includes("fleetdemo-gunicorn.log") && f.includes("fleetdemo-celery-worker.log"), { timeoutMs: 30_000 });
    expect(files).toContain("fleetdemo-gunicorn.log");
    expect(files).toContain("fleetdemo-celery-worker.log");
  }, 60_000);

  it("a second preview expects no changes", async () => {
    const rec = stepRecorder();
    const res = await t.stack.preview({ onOutput: log, onEvent: rec.onEvent, expectNoChanges: true });
    expect(rec.steps).toEqual([]);
    expect(Object.keys(res.changeSummary)).toEqual(["same"]);
  }, 300_000);

  // --- Zero-downtime deploys on the only node (issue 25): gunicorn's socket is systemd's,
  // so a restart refuses no connection; a release is checked beside the running one first.
  const gunicornPid = async () => (await fleet.ssh(HOST, "systemctl show -p MainPID --value fleetdemo-gunicorn")).trim();
  const currentRelease = async () => (await fleet.ssh(HOST, "readlink /srv/fleetdemo/current")).trim();
  /** `up` under a bounded load loop through nginx: the load's figures, and the up's error if it failed. */
  async function upUnderLoad(what: string): Promise<{ r: LoadResult; error: string }> {
    const load = startLoad({ url: siteUrl, workers: 4, maxRequests: 50_000 });
    const started = Date.now();
    const error = await t.stack.up({ onOutput: log }).then(() => "", (e: unknown) => String(e));
    const seconds = (Date.now() - started) / 1000;
    const r = await load.stop();
    console.log(`${what}, the only node, under load: up ${seconds.toFixed(1)} s; ${r.sent} requests, ${r.failed} failed, p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms`);
    return { r, error };
  }
  let v2 = "";

  it("a new commit on the only node: gunicorn restarts on its systemd socket and no request fails", async () => {
    v2 = publishVariant(fleet.gitRoot, "v2");
    await t.stack.setAllConfig(deployConfig("v2"));
    const pidBefore = await gunicornPid();
    const { r, error } = await upUnderLoad("a new commit");
    expect(error).toBe("");
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    expect(r.sent).toBeGreaterThan(20);
    expect(await currentRelease()).toBe(`releases/${v2.slice(0, 12)}`);
    expect(await gunicornPid()).not.toBe(pidBefore);
    expect((await fleet.ssh(HOST, "systemctl is-active fleetdemo-gunicorn.socket; systemctl is-enabled fleetdemo-gunicorn.socket")).split("\n").slice(0, 2)).toEqual(["active", "enabled"]);
    expect(await waitForPage(siteUrl, (b) => b.includes(V2_MARKER))).toContain(V2_MARKER);
  }, 600_000);

  it("an env change on the only node: restarted through the switch, no request fails", async () => {
    await t.stack.setAllConfig(deployConfig("v2", { env: { FLEET_ZERO_DOWNTIME: "1" } }));
    const pidBefore = await gunicornPid();
    const { r, error } = await upUnderLoad("an env change");
    expect(error).toBe("");
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    expect(await gunicornPid()).not.toBe(pidBefore);
    expect(await fleet.ssh(HOST, `tr '\\0' '\\n' < /proc/$(systemctl show -p MainPID --value fleetdemo-gunicorn)/environ | grep -c '^FLEET_ZERO_DOWNTIME=1$'`)).toBe("1\n");
  }, 600_000);

  it("a unit-file change on the only node: rolled out by the gated switch, not by the service, and no request fails", async () => {
    await t.stack.setAllConfig(deployConfig("v2", { env: { FLEET_ZERO_DOWNTIME: "1" }, timeoutSeconds: 31 }));
    const rec = stepRecorder();
    await t.stack.preview({ onEvent: rec.onEvent, onOutput: log });
    expect(rec.steps).toContain("update fleet-e2e-fleetdemo-gunicorn-unit");
    expect(rec.steps).toContain("update fleet-e2e-fleetdemo-release");
    const { r, error } = await upUnderLoad("a unit-file change");
    expect(error).toBe("");
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    // The running unit is the one on disk: TimeoutStopSec = timeout + 5.
    expect((await fleet.ssh(HOST, "systemctl show -p TimeoutStopUSec --value fleetdemo-gunicorn; systemctl show -p NeedDaemonReload --value fleetdemo-gunicorn")).split("\n").slice(0, 2)).toEqual(["36s", "no"]);
  }, 600_000);

  it("a broken release on the only node fails beside the running one: no request fails, the old release still serves, unrestarted", async () => {
    const bad = publishVariant(fleet.gitRoot, "unhealthy");
    await t.stack.setAllConfig(deployConfig("unhealthy", { env: { FLEET_ZERO_DOWNTIME: "1" }, timeoutSeconds: 31 }));
    const pidBefore = await gunicornPid();
    const { r, error } = await upUnderLoad("a release failing its health check");
    expect(error).toContain(`(fleetdemo) failed its health check on release ${bad.slice(0, 12)}`);
    expect(error).toContain(`the node still runs release ${v2.slice(0, 12)}, not restarted`);
    expect(error).toContain("HTTP 500 unhealthy release");
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    expect(await currentRelease()).toBe(`releases/${v2.slice(0, 12)}`);
    expect(await gunicornPid()).toBe(pidBefore);
    expect(await fleet.ssh(HOST, "systemctl is-active fleetdemo-gunicorn-gate.service || true")).not.toBe("active\n");
    expect(await waitForPage(siteUrl, (b) => b.includes(V2_MARKER))).toContain(V2_MARKER);
  }, 600_000);

  it("back to the first release, env and unit file in one switch: no request fails", async () => {
    await t.stack.setAllConfig(devConfig(2));
    const { r, error } = await upUnderLoad("back to the first release (commit, env and unit file)");
    expect(error).toBe("");
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    expect(await currentRelease()).toBe(`releases/${fleet.commit.slice(0, 12)}`);
  }, 600_000);

  it("changing gunicorn.workers previews as the changed line and a reload, and applies without a restart", async () => {
    const pidBefore = (await fleet.ssh(HOST, "systemctl show -p MainPID --value fleetdemo-gunicorn")).trim();
    await t.stack.setAllConfig(devConfig(3));
    const rec = stepRecorder();
    let diff = "";
    const pre = await t.stack.preview({ diff: true, onEvent: rec.onEvent, onOutput: (s) => { diff += s; } });
    output += diff;
    expect(rec.steps.sort()).toEqual(["update fleet-e2e-fleetdemo-gunicorn", "update fleet-e2e-fleetdemo-gunicorn-conf"]);
    expect(pre.changeSummary.create ?? 0).toBe(0);
    expect(diff).toMatch(/-\s*workers = 2/);
    expect(diff).toMatch(/\+\s*workers = 3/);
    expect(diff).toContain("gunicorn.conf.py");

    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.resourceChanges?.update).toBe(2);
    // Same master process (a HUP reload, no dropped requests), now with three workers.
    const pidAfter = (await fleet.ssh(HOST, "systemctl show -p MainPID --value fleetdemo-gunicorn")).trim();
    expect(pidAfter).toBe(pidBefore);
    expect(await waitFor("gunicorn to run 3 workers after the reload", () => gunicornWorkers(), (n) => n === "3")).toBe("3");
    expect(await waitForPage(siteUrl, (b) => b.includes('class="note"'))).toContain('class="note"');
  }, 600_000);

  it("an up killed part-way re-runs to the same result", async () => {
    // Real work for the killed run: a new gunicorn config and the reload it implies.
    await t.stack.setAllConfig(devConfig(4));
    // PULUMI_DEBUG_COMMANDS: the CLI takes --event-log only with it (as the Automation API sets it).
    const env = { ...process.env, ...engineEnv(t.backendDir), PULUMI_DEBUG_COMMANDS: "true" };
    // Not in the backend folder: engine events under PULUMI_DEBUG_COMMANDS carry debug
    // diagnostics with resource inputs in plain text, and the state must hold no secret.
    const scratch = mkdtempSync(join(tmpdir(), "fleet-killed-up-"));
    const events = join(scratch, "events.jsonl");
    const upLog = join(scratch, "up.log");
    const pulumi = join(ROOT, "scripts/pulumi");
    const args = ["up", "--stack", "e2e-dev", "--yes", "--non-interactive", "--skip-preview"];
    // Its own process group, so the kill reaches the whole tree the CLI started, as Ctrl-C
    // of a terminal's foreground job would.
    const killed = spawn(pulumi, [...args, "--event-log", events], { cwd: ROOT, env, stdio: ["ignore", openSync(upLog, "w"), openSync(upLog, "a")], detached: true });
    const ended = exitOf(killed, "the killed pulumi up", 600_000);
    // The kill point is a marker of the run's own progress, not a delay: the engine has
    // written the new gunicorn.conf.py and has begun the unit's reload step. That step
    // takes at least its settle watch (SETTLE_STEPS x 0.25 s), so the kill lands inside it.
    await waitFor(`the run to begin the reload step of ${GUNICORN} (engine events in ${events})`,
      () => {
        if (killed.exitCode !== null) throw new WaitAborted(`pulumi up exited with ${killed.exitCode} before reaching the kill point: ${tail(upLog)}`);
        return engineEvents(events);
      },
      (evs) => evs.some((e) => e.resourcePreEvent?.metadata?.urn?.endsWith(`::${GUNICORN}`)),
      { timeoutMs: 300_000, intervalMs: 50 });
    process.kill(-killed.pid!, "SIGKILL");
    const end = await ended;
    expect(end.signal).toBe("SIGKILL");
    // The kill landed mid-run: the engine never saw the reload step finish, nor the run end.
    const seen = engineEvents(events);
    expect(seen.some((e) => e.resOutputsEvent?.metadata?.urn?.endsWith(`::${GUNICORN}`)), "the reload step finished before the kill landed").toBe(false);
    expect(seen.some((e) => e.summaryEvent), "the run ended before the kill landed").toBe(false);
    rmSync(scratch, { recursive: true, force: true });

    const rerun = spawnSync(pulumi, args, { cwd: ROOT, env, encoding: "utf8", timeout: 600_000 });
    output += rerun.stdout + rerun.stderr;
    expect(rerun.error, "the re-run did not finish within 600 s").toBeUndefined();
    expect(rerun.status, rerun.stderr).toBe(0);
    // The re-run did the step the kill cut short (its state still held the old config).
    expect(rerun.stdout).toMatch(new RegExp(`${GUNICORN} updated`));
    expect(await changes(t, log)).toEqual([]);
    expect(await fleet.ssh(HOST, "grep -E '^workers' /etc/fleetdemo/gunicorn.conf.py")).toMatch(/workers = 4/);
    await waitFor("gunicorn to run 4 workers after the re-run", () => gunicornWorkers(), (n) => n === "4");
    await t.stack.setAllConfig(devConfig(3));
    await t.stack.up({ onOutput: log });
  }, 900_000);

  it("refresh finds a hand edit of the nginx site and a stopped worker; up repairs both", async () => {
    const site = "/etc/nginx/sites-enabled/fleetdemo.conf";
    const original = await fleet.ssh(HOST, `cat ${site}`);
    await fleet.ssh(HOST, `echo '# edited by hand' >> ${site}; systemctl stop fleetdemo-celery-worker`);

    const refresh = await t.stack.refresh({ onOutput: log });
    expect(refresh.summary.resourceChanges?.update).toBe(3);
    // nginx too: it has not loaded the edited file, and will reload the repaired one.
    expect(await changes(t, log)).toEqual(["update fleet-e2e-fleetdemo-celery-worker", "update lb-nginx", "update lb-site-fleetdemo"]);

    await t.stack.up({ onOutput: log });
    expect(await fleet.ssh(HOST, `cat ${site}`)).toBe(original);
    expect((await fleet.ssh(HOST, "systemctl is-active fleetdemo-celery-worker")).trim()).toBe("active");
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  // Drift in what the services have LOADED (issue 20), many kinds batched into one refresh
  // and one up: each is made live by hand (and checked live), then repaired live.
  const SITE = "/etc/nginx/sites-enabled/fleetdemo.conf";
  const HBA = "/etc/postgresql/17/main/pg_hba.conf";
  const FORWARD = "/etc/rsyslog.d/90-django-fleet-forward.conf";
  /** psql as the postgres superuser over TCP, never prompting: "1", or why it was refused. */
  const superuserWithoutPassword = "cd /; PGCONNECT_TIMEOUT=5 psql -w -h 127.0.0.1 -U postgres -XAtc 'SELECT 1' 2>&1 || true";
  const listeners5672 = "ss -Hltn 'sport = :5672' | awk '{print $4}' | sort | tr '\\n' ' '";
  const workersCommand = "pgrep -c -P $(systemctl show -p MainPID --value fleetdemo-gunicorn) || true";
  /** From this machine (198.18.0.1): does a TCP connection to the host open within 2 s? */
  const reachable = (port: number) => new Promise<boolean>((resolve) => {
    const c = createConnection({ host: "198.18.0.10", port, timeout: 2000 });
    const done = (open: boolean) => { c.destroy(); resolve(open); };
    c.once("connect", () => done(true)).once("timeout", () => done(false)).once("error", () => done(false));
  });
  /** Polls a host command until `ok(output)`, at most `seconds`; fails with the last output. */
  const waitOn = async (script: string, ok: (out: string) => boolean, what: string, seconds = 60) => {
    const until = Date.now() + seconds * 1000;
    let out = "";
    while (Date.now() < until) {
      out = await fleet.ssh(HOST, script);
      if (ok(out)) return out;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${what}: not within ${seconds} s; last output: ${out}`);
  };
  /** The hand-made header nginx serves, once `want` (a reload's new workers take a moment). */
  const header = async (want: string | null) => {
    const until = Date.now() + 30_000;
    let got: string | null | undefined;
    while (Date.now() < until) {
      got = await fetch(`${siteUrl}healthz`, { signal: AbortSignal.timeout(5000) }).then((r) => r.headers.get("x-hand-edit"), (e) => `fetch failed: ${e}`);
      if (got === want) return got;
      await new Promise((r) => setTimeout(r, 500));
    }
    return got;
  };
  /** The Celery worker's process after systemd restarted it (before up). */
  let workerPidBefore = "";
  /** gunicorn's process after the hand restart onto the edited unit (before up). */
  let gunicornPidBefore = "";
  const GUNICORN_UNIT = "/etc/systemd/system/fleetdemo-gunicorn.service";
  /** The broker user's password as set by hand (no secret of the stack). */
  const HAND_PASSWORD = "changed-by-hand-7f3a";

  it("drift battery: hand edits reloaded by hand, a flushed firewall, a masked unit and a restart history are live, and refresh sees each", async () => {
    // nginx: a header added to the site and reloaded by hand is served.
    await fleet.ssh(HOST, `sed -i '/^\\s*server_name /a\\    add_header X-Hand-Edit drift always;' ${SITE}; nginx -t -q; systemctl reload nginx`);
    expect(await header("drift")).toBe("drift");
    // PostgreSQL: a trust line for everyone, reloaded by hand: the superuser logs in without a password.
    await fleet.ssh(HOST, `sed -i '1i host all all 0.0.0.0/0 trust' ${HBA}; systemctl reload postgresql@17-main`);
    expect((await fleet.ssh(HOST, superuserWithoutPassword)).trim()).toBe("1");
    // RabbitMQ: its config edited to listen everywhere, restarted by hand.
    await fleet.ssh(HOST, "sed -i 's/127.0.0.1:5672/0.0.0.0:5672/' /etc/rabbitmq/rabbitmq.conf; systemctl restart rabbitmq-server");
    await waitOn(listeners5672, (o) => o.includes("0.0.0.0:5672"), "RabbitMQ listening on 0.0.0.0:5672 after the hand edit");
    // rsyslog: a line of its config sends everything to a file of its own, restarted by hand.
    await fleet.ssh(HOST, `sed -i '1i *.* /var/log/hand-edit.log' ${FORWARD}; systemctl restart rsyslog`);
    await waitOn("logger -t drifttest before-repair; grep -c before-repair /var/log/hand-edit.log || true", (o) => Number(o.trim()) > 0, "rsyslog writing the hand-edited file", 30);
    // gunicorn: its unit file edited (a 7 s stop timeout) and restarted onto it by hand, then
    // its config edited to one worker and reloaded by hand.
    gunicornPidBefore = (await fleet.ssh(HOST, `sed -i 's/^TimeoutStopSec=.*/TimeoutStopSec=7/' ${GUNICORN_UNIT}; systemctl daemon-reload; systemctl restart fleetdemo-gunicorn; systemctl show -p MainPID --value fleetdemo-gunicorn`)).trim();
    expect((await fleet.ssh(HOST, "systemctl show -p TimeoutStopUSec --value fleetdemo-gunicorn")).trim()).toBe("7s");
    await fleet.ssh(HOST, "sed -i 's/^workers = .*/workers = 1/' /etc/fleetdemo/gunicorn.conf.py; systemctl reload fleetdemo-gunicorn");
    await waitOn(workersCommand, (o) => o.trim() === "1", "gunicorn down to 1 worker after the hand reload");
    // Readiness: the Celery worker gets a restart history (killed, restarted by systemd),
    // then its unit file is edited, so up restarts it while NRestarts is not 0.
    await fleet.ssh(HOST, "kill -9 $(systemctl show -p MainPID --value fleetdemo-celery-worker)");
    const history = await waitOn("systemctl show -p NRestarts --value fleetdemo-celery-worker; systemctl is-active fleetdemo-celery-worker || true",
      (o) => Number(o.split("\n")[0]) >= 1 && o.includes("\nactive"), "the Celery worker restarted by systemd", 60);
    expect(Number(history.split("\n")[0])).toBeGreaterThanOrEqual(1);
    workerPidBefore = (await fleet.ssh(HOST, "systemctl show -p MainPID --value fleetdemo-celery-worker")).trim();
    await fleet.ssh(HOST, "echo '# edited by hand' >> /etc/systemd/system/fleetdemo-celery-worker.service");
    // The firewall: every table flushed; epmd, Erlang distribution and the log port answer from outside.
    await fleet.ssh(HOST, "nft flush ruleset");
    expect(await reachable(4369)).toBe(true);
    expect(await reachable(25672)).toBe(true);
    expect(await reachable(10514)).toBe(true);
    // nginx masked (and so stopped): the site is down.
    await fleet.ssh(HOST, "systemctl mask --now nginx");
    expect((await fleet.ssh(HOST, "systemctl is-enabled nginx || true")).trim()).toBe("masked");
    // Objects with a state (issue 24): the app user given a login shell, the broker user a
    // tag and another password, by hand.
    await fleet.ssh(HOST, "usermod --shell /bin/bash fleetdemo");
    expect((await fleet.ssh(HOST, "getent passwd fleetdemo | cut -d: -f7")).trim()).toBe("/bin/bash");
    await fleet.ssh(HOST, `rabbitmqctl -q set_user_tags fleetdemo management; rabbitmqctl -q change_password fleetdemo ${HAND_PASSWORD}`);
    expect(await fleet.ssh(HOST, "rabbitmqctl -q list_users --no-table-headers")).toMatch(/^fleetdemo\s+\[management\]$/m);

    await t.stack.refresh({ onOutput: log });
    // Every kind shows: the edited files, and the service that will load each; the
    // firewall through its loaded table, nginx as masked.
    expect(await changes(t, log)).toEqual([
      "update broker-account-fleetdemo", "update broker-conf", "update broker-service", "update db-hba", "update db-service",
      "update fleet-e2e-firewall-service", "update fleet-e2e-fleetdemo-celery-worker", "update fleet-e2e-fleetdemo-celery-worker-unit",
      "update fleet-e2e-fleetdemo-gunicorn", "update fleet-e2e-fleetdemo-gunicorn-conf", "update fleet-e2e-fleetdemo-gunicorn-unit",
      "update fleet-e2e-fleetdemo-layout",
      "update fleet-e2e-fleetdemo-release", "update lb-nginx", "update lb-site-fleetdemo", "update logging-rsyslog-fleet-e2e", "update logging-ship-fleet-e2e",
    ]);
    // preview --diff says WHAT drifted: the state lines as found and as wanted, no secret.
    let diff = "";
    await t.stack.preview({ diff: true, onOutput: (x) => { diff += x; } });
    output += diff;
    const stateLines = diff.split("\n").filter((l) => /shell=|tags=|password (matches|differs)|state\s*:/.test(l));
    console.log(`preview --diff after the hand edits, state lines:\n${stateLines.join("\n")}`);
    // Each drifted line as found and as wanted.
    for (const line of [
      "user fleetdemo home=/srv/fleetdemo shell=/bin/bash", "user fleetdemo home=/srv/fleetdemo shell=/usr/sbin/nologin",
      "user fleetdemo tags=management", "user fleetdemo tags=none", "password differs", "password matches",
    ]) expect(diff).toContain(line);
    const brokerPassword = new URL((await t.stack.outputs()).brokerUrl!.value as string).password;
    for (const secret of [HAND_PASSWORD, brokerPassword]) expect(diff).not.toContain(secret);
  }, 600_000);

  it("drift battery: one up undoes each in the file and in the running process", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`up repairing the drift battery: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    // nginx unmasked and serving, without the header.
    expect((await fleet.ssh(HOST, "systemctl is-enabled nginx; systemctl is-active nginx")).split("\n").slice(0, 2)).toEqual(["enabled", "active"]);
    expect(await header(null)).toBeNull();
    // PostgreSQL reloaded with our pg_hba: no password, no login.
    expect(await fleet.ssh(HOST, superuserWithoutPassword)).toMatch(/no password supplied|password authentication failed/);
    // RabbitMQ restarted onto our config: loopback only.
    expect((await fleet.ssh(HOST, listeners5672)).trim()).toBe("127.0.0.1:5672");
    // rsyslog restarted onto our config: a new line reaches the logging server, not the hand-made file.
    await fleet.ssh(HOST, "rm -f /var/log/hand-edit.log; logger -t drifttest after-repair");
    await waitOn("grep -c after-repair /var/log/fleet/fleet-e2e/drifttest.log 2>/dev/null || true", (o) => Number(o.trim()) > 0, "the line on the logging server", 30);
    expect((await fleet.ssh(HOST, "[ -e /var/log/hand-edit.log ] && echo exists || echo absent")).trim()).toBe("absent");
    // gunicorn reloaded onto our config: as many workers as the config says again (not 1).
    const want = (await fleet.ssh(HOST, "sed -n 's/^workers = //p' /etc/fleetdemo/gunicorn.conf.py")).trim();
    expect(want).not.toBe("1");
    expect((await waitOn(workersCommand, (o) => o.trim() === want, `gunicorn back to ${want} workers`)).trim()).toBe(want);
    // gunicorn's unit put back and restarted onto it by the gated switch (a new process
    // running the stop timeout on disk), not left running the hand-made one.
    const stop = (await fleet.ssh(HOST, `sed -n 's/^TimeoutStopSec=//p' ${GUNICORN_UNIT}; systemctl show -p TimeoutStopUSec --value fleetdemo-gunicorn; systemctl show -p NeedDaemonReload --value fleetdemo-gunicorn; systemctl show -p MainPID --value fleetdemo-gunicorn`)).trim().split("\n");
    expect(stop[0]).not.toBe("7");
    expect(stop.slice(1, 3)).toEqual([`${stop[0]}s`, "no"]);
    expect(stop[3]).not.toBe(gunicornPidBefore);
    // The worker was restarted by up (the unit file repaired; a new process) although systemd
    // had restarted it before, and up's readiness check passed. (systemd resets NRestarts on
    // a start it did not make itself, so the counter cannot show this.)
    const workerPidAfter = (await fleet.ssh(HOST, "systemctl show -p MainPID --value fleetdemo-celery-worker")).trim();
    expect(workerPidAfter).not.toBe("0");
    expect(workerPidAfter).not.toBe(workerPidBefore);
    expect((await fleet.ssh(HOST, "systemctl is-active fleetdemo-celery-worker; grep -c 'edited by hand' /etc/systemd/system/fleetdemo-celery-worker.service || true")).split("\n").slice(0, 2)).toEqual(["active", "0"]);
    // The firewall's table is back: closed again from outside.
    expect(await reachable(4369)).toBe(false);
    expect(await reachable(25672)).toBe(false);
    expect(await reachable(10514)).toBe(false);
    expect(await reachable(80)).toBe(true);
    // The app user's shell and the broker user's tags and password are put back.
    expect((await fleet.ssh(HOST, "getent passwd fleetdemo | cut -d: -f7")).trim()).toBe("/usr/sbin/nologin");
    expect(await fleet.ssh(HOST, "rabbitmqctl -q list_users --no-table-headers")).toMatch(/^fleetdemo\s+\[\]$/m);
    const brokerPassword = new URL((await t.stack.outputs()).brokerUrl!.value as string).password;
    expect((await fleet.ssh(HOST, `rabbitmqctl -q authenticate_user fleetdemo ${HAND_PASSWORD} >/dev/null 2>&1 && echo yes || echo no; rabbitmqctl -q authenticate_user fleetdemo '${brokerPassword}' >/dev/null 2>&1 && echo yes || echo no`)).trim().split("\n")).toEqual(["no", "yes"]);
    // The site works end to end.
    expect(await waitForPage(siteUrl, (b) => b.includes('class="note"'))).toContain('class="note"');
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  it("a refresh right after the repair finds nothing not loaded", async () => {
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);

  it("invalid config is refused before anything changes, naming the key and the fix", async () => {
    const cfg = devConfig(0);
    await t.stack.setAllConfig(cfg);
    const rec = stepRecorder();
    const err = await t.stack.up({ onEvent: rec.onEvent, onOutput: log }).then(() => "", (e: Error) => e.message);
    expect(err).toContain("app.gunicorn.workers: Too small: expected number to be >=1, got 0.");
    expect(err).toContain("nothing was changed on any server");
    expect(rec.steps).toEqual([]);
    await t.stack.setAllConfig(devConfig(3));
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);

  it("no generated secret appears in state or in any output", async () => {
    const outs = await t.stack.outputs();
    const dbPassword = outs.databasePassword!.value as string;
    const brokerUrl = outs.brokerUrl!.value as string;
    const brokerPassword = new URL(brokerUrl).password;
    const secretKey = (await fleet.ssh(HOST, "grep ^DJANGO_SECRET_KEY= /etc/fleetdemo/env")).trim().split("=")[1]!.replace(/"/g, "");
    expect(dbPassword).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(secretKey).toMatch(/^[A-Za-z0-9]{50}$/);
    const state = stateText(t.backendDir);
    for (const s of [dbPassword, brokerPassword, secretKey]) {
      expect(state).not.toContain(s);
      expect(output).not.toContain(s);
    }
    // Nor the SSH key every step's connection carries: refresh writes a read's inputs back,
    // and the engine must keep marking them secret.
    const keyLines = fleet.connection(HOST).privateKey.split("\n").filter((l) => l && !l.startsWith("-----"));
    expect(keyLines.length).toBeGreaterThan(2);
    for (const l of keyLines) expect(state).not.toContain(l);
    expect((await fleet.ssh(HOST, "stat -c '%a %U' /etc/fleetdemo/env")).trim()).toBe("600 root");
  }, 120_000);

  it("destroy stops the services but never drops the database", async () => {
    const res = await t.stack.destroy({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect((await fleet.ssh(HOST, "systemctl is-active fleetdemo-gunicorn || true")).trim()).not.toBe("active");
    // Its socket too: a connection to a listening socket would start gunicorn again.
    expect((await fleet.ssh(HOST, "systemctl is-active fleetdemo-gunicorn.socket || true")).trim()).not.toBe("active");
    expect((await fleet.ssh(HOST, "systemctl is-active postgresql@17-main")).trim()).toBe("active");
    const dbs = await fleet.ssh(HOST, "cd /; runuser -u postgres -- psql -XAtc \"SELECT datname FROM pg_database WHERE datname = 'fleetdemo'\"");
    expect(dbs.trim()).toBe("fleetdemo");
    // The firewall stays loaded, and loads again at boot: the database still runs.
    expect((await fleet.ssh(HOST, "nft list table inet django_fleet >/dev/null && echo loaded; systemctl is-enabled django-fleet-firewall")).trim().split("\n")).toEqual(["loaded", "enabled"]);
  }, 600_000);
});
