/**
 * End to end, a project deployed as it is: examples/uvapp (pyproject.toml + uv.lock,
 * Python >= 3.12, STATIC_ROOT hard-coded under its base dir, psycopg[c] built against
 * libpq-dev, DJANGO_ALLOWED_HOSTS read as a comma list) on one freshly booted Debian 13
 * server holding every role, with Redis as the broker. Nothing is mocked.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heredoc } from "../../lib/shell.ts";
import { sampleHostArgv, sampleLocalArgv, type ArgvSample } from "../helpers/argvSampler.ts";
import { publishReadmeCommit } from "../helpers/blogCommit.ts";
import { startGitHttp, type GitHttpServer } from "../helpers/gitHttp.ts";
import { setSecretConfig, stackExport, stateText, type TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { INVENTORY, startRealStack, stopRealStack, waitForPage, type Fleet } from "../helpers/testhosts.ts";
import { waitFor } from "../helpers/wait.ts";
import { LANDED, landedCode, sameStackIn, type LandedCode } from "../helpers/landedCode.ts";
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";

const HOST = "uv13";
// A secret app variable, set the way README shows (`config set --secret --path app.env.X`).
const TOKEN = `tok-${process.pid}-5e1b9c2f7a`;
const SITE = "http://198.18.0.10/";

function config(): Record<string, { value: string }> {
  const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  return {
    "django-fleet:inventoryFile": c(INVENTORY),
    "django-fleet:hosts": c([{ name: HOST, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] }]),
    "django-fleet:broker": c({ kind: "redis" }),
    // Two names: the project splits DJANGO_ALLOWED_HOSTS on commas.
    "django-fleet:loadBalancer": c({ serverName: "shop.example 198.18.0.10" }),
  };
}

describe("a uv/pyproject project, as it is, on a real Debian 13 server", () => {
  let fleet: Fleet;
  let t: TestStack;
  let output = "";
  const log = (s: string) => { output += s; };

  beforeAll(async () => {
    ({ fleet, t } = await startRealStack([HOST], "e2e-uvapp", config()));
    // The app set key by key (`config set --path`), as a user does, so a secret can sit in it.
    await t.stack.setAllConfig({
      "django-fleet:app.name": { value: "shop" },
      "django-fleet:app.repo": { value: "git://198.18.0.1/fleetuv.git" },
      "django-fleet:app.settingsModule": { value: "config.settings" },
      "django-fleet:app.wsgiModule": { value: "config.wsgi:application" },
      // psycopg[c] compiles against libpq.
      "django-fleet:app.packages[0]": { value: "libpq-dev" },
      "django-fleet:app.packages[1]": { value: "build-essential" },
      "django-fleet:app.env.SHOP_API_TOKEN": { value: TOKEN, secret: true },
    }, true);
  }, 600_000);
  let landed: LandedCode | undefined;
  afterAll(async () => {
    landed?.remove();
    await stopRealStack(fleet, t, log);
  }, 600_000);

  // What the stack held under the landed code, to compare after today's code took over.
  const before = { secretKey: "", marker: `upgrade-${process.pid}` };
  const envValue = (file: string, name: string) => fleet.ssh(HOST, `sed -n 's/^${name}="\\(.*\\)"$/\\1/p' ${file}`).then((v) => v.trim());

  it(`an existing stack, brought up by the landed code (${LANDED}), previews today's code with nothing stateful replaced or deleted`, async () => {
    landed = landedCode();
    const old = await sameStackIn(landed.dir, t, "e2e-uvapp");
    const started = Date.now();
    const res = await old.up({ onOutput: log });
    console.log(`uvapp first up by the landed code ${LANDED}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    await waitForPage(SITE, (b) => b.includes('class="item"'));
    before.secretKey = await envValue("/srv/shop/env", "DJANGO_SECRET_KEY");
    expect(before.secretKey).toMatch(/^.{50}$/);
    // A row of our own: the database must come through the upgrade as it is.
    await fleet.ssh(HOST, `runuser -u postgres -- psql -XAtq -d shop -c "CREATE TABLE IF NOT EXISTS upgrade_marker (v text); INSERT INTO upgrade_marker VALUES ('${before.marker}')"`);
    // The landed code is gone, as after a `git pull`: from here on, refresh and destroy too
    // must run today's provider code, not the copy each resource's state keeps.
    landed.remove();
    landed = undefined;

    // Today's code on the same stack: every step it would take, with the resource's type.
    const steps: string[] = [];
    await t.stack.preview({
      onOutput: log,
      onEvent: (e: EngineEvent) => {
        const m = e.resourcePreEvent?.metadata;
        if (m && m.op !== "same" && !m.type.startsWith("pulumi:providers:")) steps.push(`${m.op} ${m.type.split(":").pop()} ${m.urn.split("::").pop()}`);
      },
    });
    console.log(`upgrade preview from ${LANDED}:\n  ${steps.sort().join("\n  ")}`);
    // Stateful: secrets, the database, each release (its build) and its migration. None may
    // be replaced or deleted; new resources and in-place updates are how the upgrade goes.
    const stateful = /^(?:\S+) (?:RandomSecret|PostgresDatabase) |-(?:build|migrate)$/;
    const destructive = /^(?:replace|create-replacement|delete-replaced|delete|discard) /;
    expect(steps.filter((s) => stateful.test(s) && destructive.test(s))).toEqual([]);
    // Nothing else is replaced either (a replaced file or unit would mean a missing alias),
    // but the env file, which moved to root's /etc/shop/env: the new one is made first.
    expect(steps.filter((s) => /^(?:replace|create-replacement|delete-replaced) /.test(s) && !s.endsWith(" RemoteFile uv13-shop-env")))
      .toEqual([]);
    expect(steps).toContain("create-replacement RemoteFile uv13-shop-env");
  }, 900_000);

  it("up by today's code installs the locked dependencies with uv and serves the site, with the landed stack's secrets and data", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`uvapp up by today's code over the landed stack: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    expect(await envValue("/etc/shop/env", "DJANGO_SECRET_KEY")).toBe(before.secretKey);
    expect((await fleet.ssh(HOST, "runuser -u postgres -- psql -XAtq -d shop -c 'SELECT v FROM upgrade_marker'")).trim()).toBe(before.marker);
    // The first server name is the site's; this machine reaches it by the second, the address.
    expect(res.outputs.siteUrl!.value).toBe("http://shop.example/");
    // The step that built the release (checkout and virtualenv) says how it chose uv.
    const resources = (await t.stack.exportStack()).deployment.resources as Array<{ urn: string; outputs?: { description?: string } }>;
    const build = resources.find((r) => r.urn.endsWith("::uv13-shop-build"));
    expect(build?.outputs?.description).toMatch(/^release [0-9a-f]{12} of shop: git git:\/\/198\.18\.0\.1\/fleetuv\.git and a virtualenv with uv \(uv\.lock found\)$/);
  }, 900_000);

  it("the server runs Debian 13's Python and PostgreSQL, and the venv holds exactly the lock's main dependencies", async () => {
    expect(await fleet.ssh(HOST, ". /etc/os-release; echo $VERSION_ID")).toBe("13\n");
    expect((await fleet.ssh(HOST, "/srv/shop/current/venv/bin/python -c 'import sys; print(sys.version_info[:2] >= (3, 12))'")).trim()).toBe("True");
    expect((await fleet.ssh(HOST, "systemctl is-active postgresql@17-main")).trim()).toBe("active");
    // psycopg's C implementation was built and is the one in use.
    expect((await fleet.ssh(HOST, "/srv/shop/current/venv/bin/python -c 'import psycopg; print(psycopg.pq.__impl__)'")).trim()).toBe("c");
    // The dev group (pytest) is not installed.
    expect((await fleet.ssh(HOST, "/srv/shop/current/venv/bin/python -c 'import pytest' 2>&1 || true"))).toContain("ModuleNotFoundError");
  }, 120_000);

  it("the page shows rows and a Celery task; static files come from the project's own STATIC_ROOT through nginx", async () => {
    const body = await waitForPage(SITE, (b) => b.includes(`<p id="task">add=5 on ${HOST}</p>`));
    expect(body).toContain('class="item"');
    expect(body).toContain(`<p id="task">add=5 on ${HOST}</p>`);
    const css = body.match(/href="(\/static\/[^"]+\.css)"/)?.[1];
    expect(css).toBeDefined();
    const res = await fetch(new URL(css!, SITE));
    expect(res.status).toBe(200);
    expect(res.headers.get("server")).toMatch(/^nginx/);
    const site = await fleet.ssh(HOST, "cat /etc/nginx/sites-enabled/shop.conf");
    expect(site).toContain("alias /srv/shop/shared/staticfiles/;");
    expect(site).toContain("alias /srv/shop/shared/media/;");
  }, 180_000);

  it("the admin login page renders with its own CSS, for both server names", async () => {
    const login = await fetch(new URL("/admin/login/", SITE));
    expect(login.status).toBe(200);
    expect(await login.text()).toContain("Django administration");
    expect((await fetch(new URL("/static/admin/css/base.css", SITE))).status).toBe(200);
    // The second name of the comma-separated ALLOWED_HOSTS is accepted too; an unknown one is not.
    const asName = await fleet.ssh(HOST, "curl -s -o /dev/null -w '%{http_code}' -H 'Host: shop.example' http://127.0.0.1/admin/login/");
    expect(asName).toBe("200");
    expect(await fleet.ssh(HOST, "grep ^DJANGO_ALLOWED_HOSTS= /etc/shop/env")).toBe('DJANGO_ALLOWED_HOSTS="shop.example,198.18.0.10,localhost,127.0.0.1"\n');
  }, 120_000);

  it("PostgreSQL's and nginx's own logs reach the logging host", async () => {
    await fetch(SITE);
    const files = await waitFor("PostgreSQL's and nginx's logs on the logging host", () => fleet.ssh(HOST, "ls /var/log/fleet/uv13/"),
      (f) => f.includes("postgresql.log") && f.includes("nginx-access.log"), { timeoutMs: 30_000 });
    expect(files).toContain("postgresql.log");
    expect(files).toContain("nginx-access.log");
  }, 60_000);

  it("a secret app variable reaches the 0600 env file and nothing else", async () => {
    expect(await fleet.ssh(HOST, "grep ^SHOP_API_TOKEN= /etc/shop/env")).toBe(`SHOP_API_TOKEN="${TOKEN}"\n`);
    expect(stateText(t.backendDir)).not.toContain(TOKEN);
    expect(output).not.toContain(TOKEN);
  }, 60_000);

  it("preview --refresh right after up expects no changes", async () => {
    const rec = stepRecorder();
    await t.stack.preview({ refresh: true, expectNoChanges: true, onEvent: rec.onEvent, onOutput: log });
    expect(rec.steps).toEqual([]);
  }, 300_000);

  it("collected files removed by hand are drift that up repairs", async () => {
    await fleet.ssh(HOST, "rm -rf /srv/shop/shared/staticfiles/*");
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual(["update uv13-shop-collectstatic"]);
    await t.stack.up({ onOutput: log });
    expect((await fetch(new URL("/static/admin/css/base.css", SITE))).status).toBe(200);
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);

  // Issue 20: links and credentials are read back, not inferred. One refresh and one up for three kinds.
  it("current switched to /tmp, the app's PostgreSQL password and Redis's password changed by hand: refresh sees each, one up repairs them in place", async () => {
    const release = (await fleet.ssh(HOST, "readlink /srv/shop/current")).trim();
    expect(release).toMatch(/^releases\/[0-9a-f]{12}$/);
    const redisAuth = `REDISCLI_AUTH="$(sed -n 's/^requirepass //p' /etc/redis/redis-shop-secret.conf)"`;
    await fleet.ssh(HOST, [
      "ln -sfn /tmp /srv/shop/current",
      `cd / && runuser -u postgres -- psql -Xq -c "ALTER ROLE shop PASSWORD 'changed-by-hand'"`,
      // The running Redis gets another password; the file keeps ours.
      `${redisAuth} redis-cli CONFIG SET requirepass changed-by-hand`,
    ].join(" && "));
    await t.stack.refresh({ onOutput: log });
    const drift = await changes(t, log);
    // Updates, never replaces: the database, Redis's password check, the switch (and migrate, which cannot log in).
    expect(drift).toEqual(expect.arrayContaining(["update uv13-redis-shop-auth", "update db-database-shop", "update uv13-shop-release"]));
    expect(drift.filter((c) => !c.startsWith("update "))).toEqual([]);

    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect((await fleet.ssh(HOST, "readlink /srv/shop/current")).trim()).toBe(release);
    expect((await fleet.ssh(HOST, `${redisAuth} redis-cli ping`)).trim()).toBe("PONG");
    // After a gunicorn restart the app reads the database and a fresh Celery task went through Redis.
    await fleet.ssh(HOST, "systemctl restart shop-gunicorn.service");
    const since = Date.now() - 1000;
    const status = await waitFor("a Celery task finished after the repair", async () => {
      await fetch(SITE, { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      const r = await fetch(new URL("/api/status", SITE), { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
      return r?.ok ? await r.json() as { items: string[]; add: { finishedAt: string } | null } : undefined;
    }, (s) => !!s?.add && Date.parse(s.add.finishedAt) > since, { timeoutMs: 120_000 });
    expect(status!.items.length).toBeGreaterThan(0);
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  it("current pointing at a dangling relative target is drift that up repairs", async () => {
    const release = (await fleet.ssh(HOST, "readlink /srv/shop/current")).trim();
    await fleet.ssh(HOST, "ln -sfn releases/nonexistent /srv/shop/current");
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual(["update uv13-shop-release"]);
    await t.stack.up({ onOutput: log });
    expect((await fleet.ssh(HOST, "readlink /srv/shop/current")).trim()).toBe(release);
    expect(await waitForPage(SITE, (b) => b.includes('class="item"'))).toContain(`<p id="task">add=5 on ${HOST}</p>`);
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);
  // Issue 21: a private repository (app.repoToken), end to end. The app moves to a
  // token-protected HTTP copy of its repository and to a new commit there, so the host
  // must fetch through its credential helper. The config stays so (this is the file's
  // last block); one `up`, plus a refused one and previews.
  describe("deploying from a private repository with app.repoToken", () => {
    const USER = "fleet-deploy";
    const SECRET = `repo-${randomBytes(12).toString("hex")}`;
    const WRONG = `wrong-${randomBytes(12).toString("hex")}`;
    let git: GitHttpServer | undefined;
    let url = "";
    let commit = "";
    afterAll(async () => { await git?.stop(); });
    const hostAddress = () => fleet.inventory.hosts.find((h) => h.name === HOST)!.address;
    const current = () => fleet.ssh(HOST, "readlink /srv/shop/current").then((s) => s.trim());
    const urns = async () => ((await t.stack.exportStack()).deployment.resources as Array<{ urn: string }>).map((r) => r.urn).sort();

    it("a wrong token is refused before anything changes on the server, naming app.repoToken; the git server turned this machine away", async () => {
      // The server holds the repositories the fleet was published with; a new commit on a branch of its own.
      git = await startGitHttp({ root: fleet.gitRoot, user: USER, token: SECRET, delayMs: 250 });
      commit = publishReadmeCommit(fleet.gitRoot, "fleetuv", "private", "2026-01-06T00:00:00Z");
      url = git.url("fleetuv");
      await t.stack.setAllConfig({
        "django-fleet:app.repo": { value: url },
        "django-fleet:app.ref": { value: "private" },
        "django-fleet:app.repoUser": { value: USER },
      }, true);
      setSecretConfig(t, "django-fleet:app.repoToken", WRONG);
      const release = await current();
      const resources = await urns();

      const rec = stepRecorder();
      let out = "";
      const failed = await t.stack.up({ onEvent: rec.onEvent, onOutput: (s) => { out += s; } }).then(() => undefined, (e: unknown) => e);
      output += out;
      expect(failed).toBeInstanceOf(Error);
      const message = (failed as Error).message;
      expect(message).toContain("nothing was changed on any server");
      expect(message).toContain(`app.repoToken: ${url} refused the token (sent as user "${USER}"). Fix: \`npm run pulumi -- config set --secret --path 'app.repoToken' <token>\``);
      expect(rec.steps).toEqual([]);
      expect(await urns()).toEqual(resources);
      expect(await current()).toBe(release);
      expect(await fleet.ssh(HOST, "test -e /etc/shop/git-credential && echo present || echo absent")).toBe("absent\n");
      // Only this machine (the preflight's git) asked, and the wrong token got a 401; the host never came.
      const seen = git.requests();
      expect(seen.some((r) => r.auth === "wrong" && r.status === 401)).toBe(true);
      expect(seen.filter((r) => r.remote === hostAddress())).toEqual([]);
      expect(seen.filter((r) => r.auth === "ok")).toEqual([]);
    }, 300_000);

    let preview = "";
    it("with the right token the preview adds the host's credential file, and shows no token", async () => {
      setSecretConfig(t, "django-fleet:app.repoToken", SECRET);
      const rec = stepRecorder();
      await t.stack.preview({ diff: true, onEvent: rec.onEvent, onOutput: (s) => { preview += s; } });
      output += preview;
      expect(rec.steps).toContain("create uv13-shop-git-credential");
      expect(preview).toContain(url);
      expect(preview).not.toContain(SECRET);
    }, 300_000);

    it("up deploys the private commit and serves the site; the host fetched with the token, which no process's arguments held, here or there", async () => {
      const control = `198.18.0.1:${git!.port}/fleetuv.git`;
      let seenHere: ArgvSample | undefined;
      let seenThere: ArgvSample | undefined;
      const before = git!.requests().length;
      const started = Date.now();
      let result: string;
      // Both samplers are stopped whatever fails, so none keeps sweeping the host or this machine.
      let onHost: Awaited<ReturnType<typeof sampleHostArgv>> | undefined;
      let here: Awaited<ReturnType<typeof sampleLocalArgv>> | undefined;
      try {
        onHost = await sampleHostArgv((s) => fleet.ssh(HOST, s), "fleet-argv-repotoken", [SECRET], [control]);
        here = await sampleLocalArgv([SECRET], [control]);
        result = (await t.stack.up({ onOutput: log })).summary.result;
      } finally {
        try { seenHere = await here?.stop(); } finally { seenThere = await onHost?.stop(); }
      }
      console.log(`uvapp up from the private repository: ${((Date.now() - started) / 1000).toFixed(1)} s; argv sampled here ${JSON.stringify(seenHere)}, on ${HOST} ${JSON.stringify(seenThere)}`);
      expect(result).toBe("succeeded");
      expect(await current()).toBe(`releases/${commit.slice(0, 12)}`);
      expect(await waitForPage(SITE, (b) => b.includes(`<p id="task">add=5 on ${HOST}</p>`))).toContain('class="item"');

      // The host authenticated: git there was refused without credentials, then read the repository with ours.
      const fromHost = git!.requests().slice(before).filter((r) => r.remote === hostAddress());
      expect(fromHost.some((r) => r.auth === "ok" && r.status === 200 && r.path === "/fleetuv.git/git-upload-pack")).toBe(true);
      expect(fromHost.filter((r) => r.auth === "wrong")).toEqual([]);

      // The control (the repository's URL in git's arguments) was seen on both ends; the token never.
      for (const seen of [seenHere, seenThere]) {
        expect(seen.secret).toBe(0);
        expect(seen.control).toBeGreaterThan(0);
        expect(seen.sweeps).toBeGreaterThan(50);
      }
    }, 900_000);

    it("the token is in the state and the config only encrypted, in no output, and on the host only in the app's 0600 credential file", async () => {
      // `pulumi stack export` as a user runs it (the Automation API's exportStack shows secrets).
      const exported = stackExport(t);
      expect(exported).not.toContain(SECRET);
      const file = (JSON.parse(exported) as { deployment: { resources: Array<{ urn: string }> } }).deployment.resources
        .find((r) => r.urn.endsWith("::uv13-shop-git-credential"));
      expect(file).toBeDefined();
      // Pulumi's marker of a secret value, and its ciphertext.
      expect(JSON.stringify(file)).toContain('"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270"');
      expect(JSON.stringify(file)).toContain('"ciphertext":"');
      expect(stateText(t.backendDir)).not.toContain(SECRET);
      const stackFile = readFileSync(join(t.stack.workspace.workDir, `Pulumi.${t.stack.name}.yaml`), "utf8");
      expect(stackFile).not.toContain(SECRET);
      expect(stackFile).toMatch(/repoToken:\n\s+secure: v1:/);
      expect(output).not.toContain(SECRET);
      expect(preview).not.toContain(SECRET);

      // Every file of the host (but /proc, /sys, /dev) and its journal, for the token.
      const scan = await fleet.ssh(HOST, [
        "d=$(umask 077; mktemp -d /root/token-scan.XXXXXX)",
        `(umask 077; cat > "$d/pattern" ${heredoc(SECRET)}\n)`,
        'files=$(grep -rlsF -D skip -f "$d/pattern" --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev --exclude-dir="${d##*/}" / || true)',
        'journal=$(journalctl -o verbose --no-pager | grep -acF -f "$d/pattern" || true)',
        'rm -rf -- "$d"',
        'printf \'%s\\n\' "$files" "journal=$journal"',
      ].join("\n"));
      expect(scan.trim().split("\n").filter(Boolean)).toEqual(["/etc/shop/git-credential", "journal=0"]);
      // lib/gitCredential.ts: the app's user owns it (its git reads it), 0600, in root's folder.
      expect(await fleet.ssh(HOST, "stat -c '%n %U:%G %a' /etc/shop/git-credential /etc/shop")).toBe("/etc/shop/git-credential shop:shop 600\n/etc/shop root:root 755\n");
    }, 900_000);

    it("the next preview expects no changes", async () => {
      expect(await changes(t, log)).toEqual([]);
    }, 300_000);
  });
});
