/**
 * End to end, the prod topology: roles split over six freshly booted Debian 12 servers
 * (load balancer + logging, two app nodes, worker + beat + broker, database primary,
 * database replica), then the fleet reshaped by config alone. Nothing is mocked.
 * Roles are folded onto six hosts (not eight) to fit the 2-core, 24 GiB test machine.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { LocalWorkspace, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import { engineEnv, ROOT, type TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { freshObjectStore, type ObjectStore } from "../helpers/objectStore.ts";
import { INVENTORY, startRealStack, stopRealStack, type Fleet } from "../helpers/testhosts.ts";
import { blogApp, fleetdemoApp } from "../helpers/sampleApps.ts";
import { publishVariant, V2_MARKER } from "../helpers/appCommits.ts";
import { startLoad } from "../../bench/load.ts";

const NAMES = ["lb", "app1", "app2", "worker", "db", "replica"];
const ADDR: Record<string, string> = Object.fromEntries(NAMES.map((n, i) => [n, `198.18.0.${10 + i}`]));
type HostDef = { name: string; roles: string[] };

const SPLIT: HostDef[] = [
  { name: "lb", roles: ["loadBalancer", "logging"] },
  { name: "app1", roles: ["app"] },
  { name: "app2", roles: ["app"] },
  { name: "worker", roles: ["worker", "beat", "broker", "cache"] },
  { name: "db", roles: ["db"] },
  { name: "replica", roles: ["dbReplica"] },
];
/** app2 removed; the worker and beat roles moved from `worker` to `app1`. */
const RESHAPED: HostDef[] = [
  { name: "lb", roles: ["loadBalancer", "logging"] },
  { name: "app1", roles: ["app", "worker", "beat"] },
  { name: "worker", roles: ["broker", "cache"] },
  { name: "db", roles: ["db"] },
  { name: "replica", roles: ["dbReplica"] },
];

/** The object store for uploads (two app nodes need shared media), set by beforeAll. */
let s3: ObjectStore | undefined;

/** fleetdemo as the first of several apps: its port and upload prefix kept from `app`, served at the load balancer's address. */
const FLEETDEMO_FIRST = fleetdemoApp([ADDR.lb!], { port: 8000, mediaLocation: "media" });

function prodConfig(hosts: HostDef[], withBlog = false): Record<string, { value: string; secret?: boolean }> {
  const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  return {
    "django-fleet:media": {
      ...c({ storage: "s3", target: { endpoint: s3!.endpoint, bucket: "fleet-media", pathStyle: true, caFile: s3!.caFile, accessKeyId: s3!.accessKeyId, secretAccessKey: s3!.secretAccessKey } }),
      secret: true,
    },
    "django-fleet:inventoryFile": c(INVENTORY),
    "django-fleet:hosts": c(hosts),
    ...(withBlog ? { "django-fleet:apps": c([FLEETDEMO_FIRST, blogApp("blog")]) } : appAt("main")),
    "django-fleet:deploy": c({ batchSize: 1, drainSeconds: 2 }),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
    "django-fleet:loadBalancer": c({ tls: "selfSigned" }),
    "django-fleet:cache": c({ kind: "memcached" }),
  };
}

/** The one app (`app`), deploying `ref`. */
function appAt(ref: string): Record<string, { value: string }> {
  return {
    "django-fleet:app": {
      value: JSON.stringify({
        name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", ref,
        settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
        healthCheck: { path: "/healthz" },
      }),
    },
  };
}

/** The release folder of a commit, as `current` points at it. */
const releaseOf = (commit: string) => `releases/${commit.slice(0, 12)}`;

/** When each resource whose name ends in `suffix` started and finished, from engine events (ms since the epoch). */
function timings(suffix: string) {
  const seen = new Map<string, { start: number; end?: number }>();
  return {
    seen,
    onEvent(e: EngineEvent) {
      const pre = e.resourcePreEvent?.metadata;
      const done = e.resOutputsEvent?.metadata;
      const name = (pre ?? done)?.urn.split("::").pop();
      if (!name?.endsWith(suffix)) return;
      if (pre && pre.op !== "same") seen.set(name, { start: Date.now() });
      if (done && seen.has(name)) seen.get(name)!.end = Date.now();
    },
  };
}

/** curl from this machine (the certificate is self-signed, so -k). */
function curl(args: string[]): string {
  return execFileSync("curl", ["-sk", "--max-time", "10", ...args], { encoding: "utf8" });
}

async function poll<T>(what: string, f: () => Promise<T> | T, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let v: T = await f();
  while (!ok(v)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 2000));
    try { v = await f(); } catch { /* not yet */ }
  }
  return v;
}

describe("prod stack on six real servers", () => {
  let fleet: Fleet;
  let t: TestStack;
  let consumer: Stack | undefined;
  let output = "";
  const log = (s: string) => { output += s; };
  const site = `https://${ADDR.lb}/`;

  beforeAll(async () => {
    ({ fleet, t } = await startRealStack(NAMES, "e2e-prod", {}));
    s3 = await freshObjectStore();
    await s3.createBucket("fleet-media");
    await t.stack.setAllConfig(prodConfig(SPLIT));
  }, 1_200_000);
  afterAll(async () => {
    await consumer?.destroy().catch(() => undefined);
    await consumer?.workspace.removeStack("e2e-consumer").catch(() => undefined);
    await stopRealStack(fleet, t, log);
    await s3?.stop({ wipe: true });
  }, 900_000);

  it("up builds the whole fleet", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`prod first up on six bare servers: ${((Date.now() - started) / 1000).toFixed(1)} s, ${res.summary.resourceChanges?.create} resources`);
    expect(res.summary.result).toBe("succeeded");
    expect(res.outputs.siteUrl!.value).toBe(site);
    expect(res.outputs.appHosts!.value).toEqual([ADDR.app1, ADDR.app2]);
    expect(res.outputs.databaseReplicas!.value).toEqual([ADDR.replica]);
    expect(res.outputs.loggingEndpoint!.value).toBe(`${ADDR.lb}:10514`);
  }, 1_500_000);

  it("the load balancer holds none of the app's secrets or code: no env file, no tree, no user; its static files are app1's collected ones", async () => {
    // The app's database password (a value its env file holds) is in no file of the load balancer.
    const password = ((await t.stack.outputs()).appSecrets!.value as Record<string, { databasePassword: string }>).fleetdemo!.databasePassword;
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    const held = await fleet.ssh("lb", [
      "for p in /etc/fleetdemo/env /etc/fleetdemo /srv/fleetdemo /var/lib/fleetdemo; do if [ -e \"$p\" ]; then echo \"has $p\"; fi; done",
      "if id -u fleetdemo >/dev/null 2>&1; then echo 'has user fleetdemo'; fi",
      // No process runs from an app's tree (minbase has no ps: /proc).
      "for p in /proc/[0-9]*; do c=$(readlink \"$p/cwd\" 2>/dev/null || true); case $c in /srv/*) echo \"process in $c\";; esac; done",
      `grep -rlsF -- ${password} /etc /srv /var/lib /opt /root /home /tmp || true`,
    ].join("\n"));
    expect(held.trim()).toBe("");
    // Its gunicorn and Celery units are the app hosts' only.
    expect((await fleet.ssh("lb", "ls /etc/systemd/system | grep -c fleetdemo || true")).trim()).toBe("0");
    // root's copy, keyed by the release, world-readable, served by nginx.
    const copy = "/var/lib/django-fleet/static/fleetdemo";
    expect((await fleet.ssh("lb", `readlink ${copy}/current; stat -c '%U %a' ${copy}/current/notes/site.css`)).trim().split("\n"))
      .toEqual([fleet.commit.slice(0, 12), "root 644"]);
    const collected = await fleet.ssh("app1", "cat /srv/fleetdemo/public/static/notes/site.css");
    expect(collected).toContain("{");
    expect(curl([`${site}static/notes/site.css`])).toBe(collected);
  }, 120_000);

  it("refresh finds the load balancer's copy of the static files edited, and its old app pieces back; up puts both right", async () => {
    const copy = "/var/lib/django-fleet/static/fleetdemo/current/notes/site.css";
    await fleet.ssh("lb", [
      `echo tampered > ${copy}`,
      // What a stack made before the load balancer stopped running the app's code left there.
      "useradd --system --user-group --home-dir /srv/fleetdemo --shell /usr/sbin/nologin fleetdemo",
      "install -d -o fleetdemo -m 0710 /srv/fleetdemo /srv/fleetdemo/releases",
      "install -d -m 0755 /etc/fleetdemo && echo 'SECRET_KEY=old' > /etc/fleetdemo/env && chmod 0600 /etc/fleetdemo/env",
    ].join("\n"));
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual(["update lb-fleetdemo-static", "update lb-leftovers-fleetdemo"]);
    await t.stack.up({ onOutput: log });
    expect(curl([`${site}static/notes/site.css`])).toBe(await fleet.ssh("app1", "cat /srv/fleetdemo/public/static/notes/site.css"));
    expect((await fleet.ssh("lb", "ls -d /srv/fleetdemo /etc/fleetdemo 2>/dev/null || true; id -u fleetdemo 2>/dev/null || true")).trim()).toBe("");
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  it("the site answers over TLS from both app nodes, and plain HTTP redirects", async () => {
    expect(curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", `http://${ADDR.lb}/`])).toBe(`301 https://${ADDR.lb}/`);
    const servedBy = new Set<string>();
    await poll("both app nodes to serve", () => {
      const body = curl([site]);
      expect(body).toContain('<li class="note">alpha</li>');
      const m = /<p id="served-by">([^<]+)<\/p>/.exec(body);
      if (m) servedBy.add(m[1]!);
      return servedBy;
    }, (s) => s.has("app1") && s.has("app2"), 60_000);
    expect([...servedBy].sort()).toEqual(["app1", "app2"]);
  }, 120_000);

  it("both app nodes share one memcached, which only they can reach", async () => {
    const views = (b: string) => Number(/<p id="cache">PyMemcacheCache views=(\d+)<\/p>/.exec(b)?.[1] ?? NaN);
    const seen: Array<[string, number]> = [];
    await poll("pages from both nodes", () => {
      const b = curl([site]);
      seen.push([/<p id="served-by">([^<]+)</.exec(b)?.[1] ?? "", views(b)]);
      return seen;
    }, (s) => new Set(s.map(([h]) => h)).size === 2, 60_000);
    // One counter across both nodes: strictly increasing whichever node answered.
    const counts = seen.map(([, n]) => n);
    expect(counts.every((n, i) => Number.isInteger(n) && (i === 0 || n > counts[i - 1]!))).toBe(true);
    const probe = `timeout 5 bash -c '</dev/tcp/${ADDR.worker}/11211' && echo open || echo closed`;
    expect((await fleet.ssh("app1", probe)).trim()).toBe("open");
    expect((await fleet.ssh("lb", probe)).trim()).toBe("closed");
  }, 120_000);

  it("a Celery task runs on the worker host, and beat runs there once", async () => {
    const body = await poll("a task result", () => curl([site]), (b) => b.includes('<p id="task">add=5 on worker</p>') && b.includes('<p id="beat">beat on worker</p>'));
    expect(body).toContain('<p id="task">add=5 on worker</p>');
    const beats = await fleet.ssh("app1", "systemctl list-units --all --no-legend 'fleetdemo-celery-*' | wc -l");
    expect(beats.trim()).toBe("0");
  }, 180_000);

  it("a row written on the primary is read on the replica", async () => {
    await fleet.ssh("db", "cd / && runuser -u postgres -- psql -d fleetdemo -XAtqc \"INSERT INTO notes_note (text, created) VALUES ('written-on-primary', now())\"");
    const seen = await poll("the row on the replica",
      () => fleet.ssh("replica", "cd / && runuser -u postgres -- psql -d fleetdemo -XAtc \"SELECT count(*) FROM notes_note WHERE text = 'written-on-primary'\""),
      (v) => v.trim() === "1", 60_000);
    expect(seen.trim()).toBe("1");
    expect((await fleet.ssh("replica", "cd / && runuser -u postgres -- psql -XAtc 'SELECT pg_is_in_recovery()'")).trim()).toBe("t");
  }, 120_000);

  it("the logging server holds lines from every host", async () => {
    const dirs = await poll("logs from every host", () => fleet.ssh("lb", "ls /var/log/fleet/"),
      (v) => NAMES.every((n) => v.split("\n").includes(n)), 60_000);
    expect(dirs.split("\n").filter(Boolean).sort()).toEqual([...NAMES].sort());
    expect(await fleet.ssh("lb", "ls /var/log/fleet/app1/")).toContain("fleetdemo-gunicorn.log");
  }, 120_000);

  // Issue 21: logs travel over TLS only, clients authenticated by the stack's CA.
  it("the logging port refuses plain TCP and TLS clients without a certificate from the stack's CA, and takes one with it", async () => {
    const tag = (what: string) => `tls${what}${Date.now().toString(36)}`;
    const [plainTag, noCertTag, foreignTag, okTag] = ["plain", "nocert", "foreign", "ok"].map(tag);
    const line = (t: string) => `printf '<13>1 - app1 ${t} - - - from app1\\n'`;
    const sClient = (...extra: string[]) => `timeout 10 openssl s_client -connect ${ADDR.lb}:10514 -quiet ${extra.join(" ")} >/dev/null 2>&1 || true`;
    await fleet.ssh("app1", [
      // Plain TCP, as the hosts shipped before.
      `logger --tcp -n ${ADDR.lb} -P 10514 -t ${plainTag} 'plain from app1' || true`,
      // TLS without a client certificate.
      `${line(noCertTag)} | ${sClient()}`,
      // TLS with a certificate from another CA (a self-signed one).
      "d=$(mktemp -d); openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=app1 -keyout $d/k -out $d/c 2>/dev/null",
      `${line(foreignTag)} | ${sClient("-cert $d/c -key $d/k")}; rm -rf \"$d\"`,
      // The same client with the host's own certificate, checking the server's name: taken.
      `${line(okTag)} | ${sClient("-cert /etc/fleet-log-tls/host.crt -key /etc/fleet-log-tls/host.key -CAfile /etc/fleet-log-tls/ca.crt -verify_hostname logging.fleet -verify_return_error")}`,
    ].join("\n"));
    // The line sent last arrives; the ones sent before it, refused, never do.
    await poll("the line with the host's certificate", () => fleet.ssh("lb", `ls /var/log/fleet/app1/`),
      (v) => v.split("\n").includes(`${okTag}.log`), 60_000);
    const files = (await fleet.ssh("lb", "ls /var/log/fleet/*/")).split("\n");
    for (const t of [plainTag, noCertTag, foreignTag]) expect(files).not.toContain(`${t}.log`);
    // rsyslog itself says why (in the journal, and shipped like any line).
    const said = await poll("the server's reasons", () => fleet.ssh("lb", "journalctl -q -u rsyslog --no-pager; cat /var/log/fleet/lb/rsyslogd.log 2>/dev/null || true"),
      (v) => v.includes("did not provide a certificate") && v.includes("not permitted to talk to peer"), 60_000);
    expect(said).toContain("signer not found");
  }, 120_000);

  it("every host's lines still arrive, over TLS, and no host holds another's key", async () => {
    const tag = `tlsmark${Date.now().toString(36)}`;
    await Promise.all(NAMES.map((n) => fleet.ssh(n, `logger -t ${tag} 'shipped over TLS from ${n}'`)));
    const found = await poll("the marked line from every host", () => fleet.ssh("lb", `ls /var/log/fleet/*/${tag}.log 2>/dev/null || true`),
      (v) => NAMES.every((n) => v.includes(`/var/log/fleet/${n}/${tag}.log`)), 90_000);
    expect(found.split("\n").filter(Boolean)).toHaveLength(NAMES.length);
    // Each host forwards with gtls, its key 0600 root, made on the host (so each differs);
    // the CA key is only on the logging host.
    const keys = await Promise.all(NAMES.map((n) => fleet.ssh(n, [
      "grep -c 'StreamDriver=\"gtls\"' /etc/rsyslog.d/90-django-fleet-forward.conf",
      "stat -c %a:%U /etc/fleet-log-tls/host.key",
      "openssl pkey -in /etc/fleet-log-tls/host.key -pubout | sha256sum | cut -c1-16",
      "[ -e /etc/fleet-log-ca/ca.key ] && stat -c %a:%U /etc/fleet-log-ca/ca.key || echo no-ca-key",
    ].join("; "))));
    const rows = keys.map((k) => k.trim().split("\n"));
    for (const [i, r] of rows.entries()) {
      expect(r[0]).toBe("1");
      expect(r[1]).toBe("600:root");
      expect(r[3]).toBe(NAMES[i] === "lb" ? "600:root" : "no-ca-key");
    }
    expect(new Set(rows.map((r) => r[2])).size).toBe(NAMES.length);
  }, 150_000);

  it("the database port answers the app hosts and refuses the load balancer host", async () => {
    const probe = `timeout 5 bash -c '</dev/tcp/${ADDR.db}/5432' && echo open || echo closed`;
    expect((await fleet.ssh("app1", probe)).trim()).toBe("open");
    expect((await fleet.ssh("lb", probe)).trim()).toBe("closed");
    // The broker likewise: open to the app hosts, closed to the load balancer.
    const broker = `timeout 5 bash -c '</dev/tcp/${ADDR.worker}/5672' && echo open || echo closed`;
    expect((await fleet.ssh("app2", broker)).trim()).toBe("open");
    expect((await fleet.ssh("lb", broker)).trim()).toBe("closed");
  }, 60_000);

  it("a second preview expects no changes", async () => {
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);

  it("another stack reads the outputs through StackReference: plain facts plain, credentials secret (issue 22)", async () => {
    const env = engineEnv(t.backendDir);
    consumer = await LocalWorkspace.createOrSelectStack({ stackName: "e2e-consumer", workDir: join(ROOT, "examples/consumer") }, { envVars: env });
    await consumer.setConfig("fleetStack", { value: "organization/django-fleet/e2e-prod" });
    const res = await consumer.up({ onOutput: log });
    const monitoring = res.outputs.monitoringConfig!.value as string;
    expect(monitoring).toContain(`"http://${ADDR.app1}:8000/healthz", "http://${ADDR.app2}:8000/healthz"`);
    expect(monitoring).toContain(`"${ADDR.db}:5432"`);
    expect(monitoring).toContain(`"${site}"`);
    // Derived from plain outputs only (`apps` among them), so not secret.
    expect(res.outputs.monitoringConfig!.secret).toBe(false);
    // An app's URL arrives as a plain string.
    expect(res.outputs.appUrls!.value).toEqual({ fleetdemo: site });
    expect(res.outputs.appUrls!.secret).toBe(false);
    // Its password arrives as a secret (in the exporter DSN built from it), the fleet's own.
    const fleetOutputs = await t.stack.outputs();
    expect(fleetOutputs.apps!.secret).toBe(false);
    expect(fleetOutputs.appSecrets!.secret).toBe(true);
    const password = (fleetOutputs.appSecrets!.value as Record<string, { databasePassword: string }>).fleetdemo!.databasePassword;
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(res.outputs.databaseDsns!.secret).toBe(true);
    expect(res.outputs.databaseDsns!.value).toEqual({ fleetdemo: `postgresql://fleetdemo:${password}@${ADDR.db}:5432/fleetdemo` });
    expect(res.outputs.brokerUrl!.secret).toBe(true);
    // Nothing secret in what the consumer printed.
    expect(output).not.toContain(password);
  }, 300_000);

  // --- Safe deploys (issue 11): releases side by side, a rolling switch behind the health
  // gate, a failed node switched back, rollback to a kept release, and drift of `current`.
  let v2 = "";

  it("a new release rolls out node by node under load: no failed request, every node on it, the previous release kept", async () => {
    v2 = publishVariant(fleet.gitRoot, "v2");
    await t.stack.setAllConfig(appAt("v2"));
    const preview = stepRecorder();
    await t.stack.preview({ onEvent: preview.onEvent, onOutput: log });
    expect(preview.steps).toContain("update app1-fleetdemo-release");
    expect(preview.steps).toContain("update app2-fleetdemo-release");
    expect(preview.steps.filter((s) => /^(delete|replace|create-replacement|delete-replaced) /.test(s))).toEqual([]);
    // A pure code deploy restarts gunicorn only through the switches.
    expect(preview.steps.filter((s) => s.endsWith("-gunicorn"))).toEqual([]);

    const time = timings("-fleetdemo-release");
    const load = startLoad({ url: site, workers: 4 });
    const started = Date.now();
    await t.stack.up({ onOutput: log, onEvent: time.onEvent });
    const seconds = (Date.now() - started) / 1000;
    const r = await load.stop();
    const a1 = time.seen.get("app1-fleetdemo-release")!;
    const a2 = time.seen.get("app2-fleetdemo-release")!;
    console.log(`rolling deploy of v2 under load: up ${seconds.toFixed(1)} s; switch app1 ${((a1.end! - a1.start) / 1000).toFixed(1)} s, app2 ${((a2.end! - a2.start) / 1000).toFixed(1)} s; ${r.sent} requests, ${r.failed} failed, p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms`);
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    expect(r.sent).toBeGreaterThan(20);
    // Node 2 moved only after node 1 passed its gate.
    expect(a2.start).toBeGreaterThanOrEqual(a1.end!);
    for (const n of ["app1", "app2", "worker"]) expect((await fleet.ssh(n, "readlink /srv/fleetdemo/current")).trim()).toBe(releaseOf(v2));
    const kept = (await fleet.ssh("app1", "ls /srv/fleetdemo/releases")).split("\n").filter(Boolean).sort();
    expect(kept).toEqual([fleet.commit.slice(0, 12), v2.slice(0, 12)].sort());
    expect(curl([site])).toContain(V2_MARKER);
    expect(await fleet.ssh("lb", "grep -c ' down;' /etc/nginx/sites-enabled/fleetdemo.conf || true")).toBe("0\n");
  }, 900_000);

  it("a release that fails its health check stops at node 1, which goes back; node 2 never moves; no request fails", async () => {
    const bad = publishVariant(fleet.gitRoot, "unhealthy");
    await t.stack.setAllConfig(appAt("unhealthy"));
    const load = startLoad({ url: site, workers: 4 });
    const error = await t.stack.up({ onOutput: log }).then(() => "", (e: unknown) => String(e));
    const r = await load.stop();
    console.log(`deploy of a release failing its health check, under load: ${r.sent} requests, ${r.failed} failed, p99 ${r.p99Ms.toFixed(0)} ms`);
    expect(error).toContain(`app node ${ADDR.app1} (fleetdemo) failed its health check on release ${bad.slice(0, 12)}`);
    expect(error).toContain(`it was switched back to release ${v2.slice(0, 12)}, which passes the check`);
    expect(error).toContain("HTTP 500 unhealthy release");
    expect(r.failed, r.errorsSample.join(", ")).toBe(0);
    for (const n of ["app1", "app2", "worker"]) expect((await fleet.ssh(n, "readlink /srv/fleetdemo/current")).trim()).toBe(releaseOf(v2));
    expect(await fleet.ssh("lb", "grep -c ' down;' /etc/nginx/sites-enabled/fleetdemo.conf || true")).toBe("0\n");
    expect(curl([site])).toContain(V2_MARKER);
  }, 900_000);

  it("rolling back to the first release reuses it (no git, no pip) and leaves nothing to change", async () => {
    const marker = `/srv/fleetdemo/${releaseOf(fleet.commit)}/.django-fleet-built`;
    const builtAt = await fleet.ssh("app1", `stat -c %Y ${marker}`);
    await t.stack.setAllConfig(appAt("main"));
    const started = Date.now();
    await t.stack.up({ onOutput: log });
    console.log(`rollback to the kept first release: up ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const n of ["app1", "app2", "worker"]) expect((await fleet.ssh(n, "readlink /srv/fleetdemo/current")).trim()).toBe(releaseOf(fleet.commit));
    // The build left the kept release as it was: its marker was not written again.
    expect(await fleet.ssh("app1", `stat -c %Y ${marker}`)).toBe(builtAt);
    expect(curl([site])).not.toContain(V2_MARKER);
    expect(await changes(t, log)).toEqual([]);
  }, 900_000);

  it("a hand-switched `current` on one node is found by refresh and put back", async () => {
    await fleet.ssh("app2", `cd /srv/fleetdemo && ln -sfn ${releaseOf(v2)} current.x && mv -T current.x current`);
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual(["update app2-fleetdemo-release"]);
    await t.stack.up({ onOutput: log });
    expect((await fleet.ssh("app2", "readlink /srv/fleetdemo/current")).trim()).toBe(releaseOf(fleet.commit));
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  it("a second app joins: `app` becomes `apps`, fleetdemo's resources are kept, and blog is served by host name", async () => {
    // Setting `apps` and removing `app` (setAllConfig keeps keys it is not given).
    await t.stack.removeConfig("django-fleet:app");
    await t.stack.setAllConfig(prodConfig(SPLIT, true));
    const rec = stepRecorder();
    await t.stack.preview({ onEvent: rec.onEvent, onOutput: log });
    // Converting keeps every fleetdemo resource: nothing is replaced or deleted.
    expect(rec.steps.filter((s) => /^(delete|replace|create-replacement|delete-replaced) /.test(s))).toEqual([]);
    expect(rec.steps).toContain("create app1-blog-gunicorn");
    expect(rec.steps).toContain("create db-database-blog");
    expect(rec.steps).toContain("create broker-account-blog");
    expect(rec.steps).toContain("create lb-site-blog");

    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`prod: a second app added: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    const apps = res.outputs.apps!.value as Record<string, { url: string; hosts: string[] }>;
    expect(apps.blog!.url).toBe("https://blog.example/");
    expect(apps.blog!.hosts).toEqual([ADDR.app1, ADDR.app2]);
    expect(res.outputs.siteUrl!.value).toBe(site);
    // Each app under its own name, through the load balancer, over TLS.
    const resolve = ["--resolve", `blog.example:443:${ADDR.lb}`];
    const posts = await poll("blog's page and task", () => curl([...resolve, "https://blog.example/"]),
      (b) => b.includes('<p id="task">wordcount=4 on worker</p>'));
    expect(posts).toContain('<li class="post">First post from blog</li>');
    // blog's static files (at its own STATIC_URL) are copied to the load balancer too, and nothing else of it.
    const blogCss = await fleet.ssh("app1", "cat /srv/blog/public/static/posts/blog.css");
    expect(curl([...resolve, "https://blog.example/assets/posts/blog.css"])).toBe(blogCss);
    expect((await fleet.ssh("lb", "ls -d /srv/blog /etc/blog 2>/dev/null || true")).trim()).toBe("");
    expect(curl([site])).toContain('<li class="note">alpha</li>');
    // blog's role may reach its own database from an app node, and not fleetdemo's (pg_hba).
    const connect = (db: string) => [
      "url=$(sed -n 's/^BLOG_DB_URL=//p' /etc/blog/env | tr -d '\"')",
      `URL="$url" /srv/blog/current/venv/bin/python -c 'import os, urllib.parse as u, psycopg`,
      "p = u.urlsplit(os.environ[\"URL\"])",
      "try:",
      `    psycopg.connect(host=p.hostname, port=p.port, user=u.unquote(p.username), password=u.unquote(p.password), dbname="${db}", connect_timeout=5).close(); print("ok")`,
      "except Exception as e:",
      "    print(\" \".join(str(e).split()))",
      "'",
    ].join("\n");
    expect((await fleet.ssh("app1", connect("blog"))).trim()).toBe("ok");
    expect((await fleet.ssh("app1", connect("fleetdemo"))).trim()).toMatch(/no pg_hba\.conf entry|permission denied/);
    // Both apps' gunicorn ports are open to the load balancer only.
    const port = Number((await fleet.ssh("app1", "sed -n 's/^bind = .*:\\([0-9]*\\)\"$/\\1/p' /etc/blog/gunicorn.conf.py")).trim());
    expect(port).toBeGreaterThanOrEqual(8100);
    const probe = (p: number) => `timeout 5 bash -c '</dev/tcp/${ADDR.app1}/${p}' && echo open || echo closed`;
    expect((await fleet.ssh("lb", probe(port))).trim()).toBe("open");
    expect((await fleet.ssh("worker", probe(port))).trim()).toBe("closed");
    expect(await changes(t, log)).toEqual([]);
  }, 1_200_000);

  it("removing an app node and moving the worker role is one up, previewing only what the move implies", async () => {
    await t.stack.setAllConfig(prodConfig(RESHAPED, true));
    const rec = stepRecorder();
    await t.stack.preview({ onEvent: rec.onEvent, onOutput: log });
    const steps = rec.steps;
    // Nothing of the database is replaced or deleted.
    expect(steps.filter((s) => /^(delete|replace|create-replacement|delete-replaced) (db-|replica-)/.test(s))).toEqual([]);
    // The load balancer's upstream list changes; app2 and the worker host's Celery go;
    // Celery starts on app1.
    expect(steps).toContain("update lb-site-fleetdemo");
    expect(steps).toContain("update lb-site-blog");
    expect(steps).toContain("delete app2-blog-gunicorn");
    expect(steps).toContain("create app1-blog-celery-worker");
    expect(steps).toContain("delete app2-fleetdemo-gunicorn");
    expect(steps).toContain("delete worker-fleetdemo-celery-worker");
    expect(steps).toContain("delete worker-fleetdemo-celery-beat");
    expect(steps).toContain("create app1-fleetdemo-celery-worker");
    expect(steps).toContain("create app1-fleetdemo-celery-beat");
    // app1's own web serving is untouched.
    expect(steps.filter((s) => s.includes("app1-fleetdemo-gunicorn"))).toEqual([]);
    expect(steps.filter((s) => s.startsWith("replace "))).toEqual([]);

    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect(res.outputs.appHosts!.value).toEqual([ADDR.app1]);
    const body = await poll("a task on app1", () => curl([site]), (b) => b.includes('<p id="task">add=5 on app1</p>'));
    expect(body).toContain('<p id="served-by">app1</p>');
    expect((await fleet.ssh("app2", "systemctl is-active fleetdemo-gunicorn || true")).trim()).not.toBe("active");
    expect((await fleet.ssh("worker", "systemctl is-active fleetdemo-celery-worker || true")).trim()).not.toBe("active");
    expect(await changes(t, log)).toEqual([]);
  }, 900_000);

  it("destroy takes the fleet down, keeps the data, and frees the replication slot", async () => {
    await consumer?.destroy();
    const res = await t.stack.destroy({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect((await fleet.ssh("db", "cd / && runuser -u postgres -- psql -XAtc \"SELECT count(*) FROM pg_database WHERE datname = 'fleetdemo'\"")).trim()).toBe("1");
    expect((await fleet.ssh("db", "cd / && runuser -u postgres -- psql -XAtc 'SELECT count(*) FROM pg_replication_slots'")).trim()).toBe("0");
    // Every host keeps its firewall loaded (and enabled at boot): data services still run there.
    for (const h of ["db", "replica", "lb"]) {
      expect((await fleet.ssh(h, "nft list table inet django_fleet >/dev/null && echo loaded; systemctl is-enabled django-fleet-firewall")).trim().split("\n"), h).toEqual(["loaded", "enabled"]);
    }
  }, 900_000);
});
