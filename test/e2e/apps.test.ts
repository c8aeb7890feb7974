/**
 * End to end, several apps on one fleet: two really different Django projects
 * (examples/app and examples/blog: other settings module, env names, list separator,
 * static URL) on one freshly booted Debian 13 server holding every role, each with its
 * own user, database, RabbitMQ vhost, Redis cache server, units and virtual host; then a
 * third app added and one removed, by config alone. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { stateText, type TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { INVENTORY, startRealStack, stopRealStack, type Fleet } from "../helpers/testhosts.ts";
import { blogApp, fleetdemoApp } from "../helpers/sampleApps.ts";
import { publishBlogCommit } from "../helpers/blogCommit.ts";
import { quote } from "../../lib/shell.ts";
import { waitFor } from "../helpers/wait.ts";

const HOST = "apps13";
const ADDRESS = "198.18.0.10";

const FLEETDEMO = fleetdemoApp(["fleetdemo.example"], { gunicorn: { workers: 2 } });
const blog = (name: string) => blogApp(name, { gunicorn: { workers: 2 } });

function config(apps: unknown[]): Record<string, { value: string }> {
  const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  return {
    "django-fleet:inventoryFile": c(INVENTORY),
    "django-fleet:hosts": c([{ name: HOST, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "cache", "logging"] }]),
    "django-fleet:apps": c(apps),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
    // Each app gets a Redis server of its own for its cache (issue 21).
    "django-fleet:cache": c({ kind: "redis" }),
  };
}

/** GET / on the load balancer under a host name: [curl's exit code, body]. */
function get(hostName: string, path = "/"): [number, string] {
  const r = spawnSync("curl", ["-s", "--max-time", "10", "-H", `Host: ${hostName}`, `http://${ADDRESS}${path}`], { encoding: "utf8" });
  return [r.status ?? -1, r.stdout];
}

/** GET `path` on the load balancer under a host name: its HTTP status (0: no answer) and body. */
function fetchPath(hostName: string, path: string): { status: number; body: string } {
  const r = spawnSync("curl", ["-s", "--max-time", "10", "-w", "\n%{http_code}", "-H", `Host: ${hostName}`, `http://${ADDRESS}${path}`], { encoding: "utf8" });
  const out = r.stdout ?? "";
  const cut = out.lastIndexOf("\n");
  return { status: Number(out.slice(cut + 1)) || 0, body: out.slice(0, Math.max(cut, 0)) };
}

async function pageOf(hostName: string, ok: (b: string) => boolean, timeoutMs = 120_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let body = "";
  while (Date.now() < until) {
    body = get(hostName)[1];
    if (ok(body)) return body;
    await new Promise((r) => setTimeout(r, 2000));
  }
  return body;
}

/** Connects with `app`'s own credentials (read from its env file) to `database`; prints "ok" or the error. */
function connectAs(app: string, variable: string, database: string): string {
  return [
    `url=$(sed -n 's/^${variable}=//p' /etc/${app}/env | tr -d '"')`,
    `URL="$url" DB=${database} /srv/${app}/current/venv/bin/python -c '`,
    "import os, urllib.parse as u, psycopg",
    "p = u.urlsplit(os.environ[\"URL\"])",
    "try:",
    "    psycopg.connect(host=p.hostname, port=p.port, user=u.unquote(p.username), password=u.unquote(p.password), dbname=os.environ[\"DB\"], connect_timeout=5).close(); print(\"ok\")",
    "except Exception as e:",
    "    print(\" \".join(str(e).split()))",
    "'",
  ].join("\n");
}

const pid = (fleet: Fleet, unit: string) => fleet.ssh(HOST, `systemctl show -p MainPID --value ${unit}`).then((s) => s.trim());

describe("two apps, then a third added and one removed, on one real server", () => {
  let fleet: Fleet;
  let t: TestStack;
  let output = "";
  const log = (s: string) => { output += s; };

  beforeAll(async () => ({ fleet, t } = await startRealStack([HOST], "e2e-apps", config([FLEETDEMO, blog("blog")]))), 600_000);
  afterAll(() => stopRealStack(fleet, t, log), 600_000);

  it("one up serves both apps, each under its own host name", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`two apps, first up on a bare Debian 13 server: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    const apps = res.outputs.apps!.value as Record<string, { url: string; database: { name: string; user: string }; brokerVhost: string; deployedCommit: string }>;
    expect(Object.keys(apps).sort()).toEqual(["blog", "fleetdemo"]);
    expect(apps.fleetdemo!.url).toBe("http://fleetdemo.example/");
    expect(apps.blog!.url).toBe("http://blog.example/");
    expect(apps.blog!.database).toEqual({ name: "blog", user: "blog" });
    expect(apps.blog!.brokerVhost).toBe("blog");
    expect(apps.fleetdemo!.deployedCommit).toBe(fleet.commit);
    // `apps` is plain; each app's credentials are in the secret `appSecrets`, encrypted in the state.
    expect(res.outputs.apps!.secret).toBe(false);
    expect(res.outputs.appSecrets!.secret).toBe(true);
    const blogApp = (res.outputs.appSecrets!.value as Record<string, { databasePassword: string; brokerUrl: string }>).blog!;
    expect(blogApp.databasePassword).toMatch(/^[A-Za-z0-9]{32}$/);
    const state = stateText(t.backendDir);
    expect(state).not.toContain(blogApp.databasePassword);
    expect(state).not.toContain(new URL(blogApp.brokerUrl).password);
    // The one-app outputs describe the first app.
    expect(res.outputs.siteUrl!.value).toBe("http://fleetdemo.example/");
  }, 900_000);

  it("each app shows rows from its own database and runs its own Celery task and beat", async () => {
    const demo = await pageOf("fleetdemo.example", (b) => b.includes(`<p id="task">add=5 on ${HOST}</p>`) && b.includes(`<p id="beat">beat on ${HOST}</p>`));
    expect(demo).toContain('<li class="note">alpha</li>');
    expect(demo).toContain(`<p id="task">add=5 on ${HOST}</p>`);
    expect(demo).not.toContain('class="post"');
    const posts = await pageOf("blog.example", (b) => b.includes(`<p id="task">wordcount=4 on ${HOST}</p>`) && b.includes(`<p id="tick">tick on ${HOST}</p>`));
    expect(posts).toContain('<li class="post">First post from blog</li>');
    expect(posts).toContain(`<p id="task">wordcount=4 on ${HOST}</p>`);
    expect(posts).not.toContain('class="note"');
    // Each app's static files, at its own STATIC_URL, through nginx.
    expect(get("blog.example", "/assets/posts/blog.css")[0]).toBe(0);
    expect(get("blog.example", "/assets/posts/blog.css")[1]).toContain("{");
    expect(get("fleetdemo.example", "/static/notes/site.css")[1]).toContain("{");
  }, 300_000);

  it("a host name no app serves gets no site", async () => {
    // 444: nginx closes the connection without an answer (curl: empty reply, exit 52).
    expect(get("other.example")[0]).toBe(52);
    expect(get(ADDRESS)[0]).toBe(52);
  }, 60_000);

  it("apps are isolated: database, files and broker", async () => {
    // Each role reaches its own database, and is refused by the other app's.
    expect((await fleet.ssh(HOST, connectAs("blog", "BLOG_DB_URL", "blog"))).trim()).toBe("ok");
    expect((await fleet.ssh(HOST, connectAs("blog", "BLOG_DB_URL", "fleetdemo"))).trim()).toMatch(/permission denied for database "?fleetdemo"?/);
    expect((await fleet.ssh(HOST, connectAs("fleetdemo", "DATABASE_URL", "blog"))).trim()).toMatch(/permission denied for database "?blog"?/);
    // An app's user cannot read the other's source or env file; it reads its own source.
    const read = (user: string, path: string) => fleet.ssh(HOST, `runuser -u ${user} -- cat ${path} >/dev/null 2>&1 && echo read || echo refused`).then((s) => s.trim());
    expect(await read("blog", "/srv/blog/current/source/manage.py")).toBe("read");
    expect(await read("blog", "/srv/fleetdemo/current/source/manage.py")).toBe("refused");
    expect(await read("blog", "/etc/fleetdemo/env")).toBe("refused");
    expect(await read("fleetdemo", "/srv/blog/current/source/manage.py")).toBe("refused");
    // Each broker user has permissions on its own vhost only.
    expect((await fleet.ssh(HOST, "rabbitmqctl -q list_user_permissions blog | awk 'NR > 1 || $1 != \"vhost\" {print $1}'")).trim()).toBe("blog");
    expect((await fleet.ssh(HOST, "rabbitmqctl -q list_user_permissions fleetdemo | awk 'NR > 1 || $1 != \"vhost\" {print $1}'")).trim()).toBe("fleetdemo");
  }, 120_000);

  // Issue 21: each app's cache is a Redis server of its own (redis-server@<app>, own port
  // and password); one app's credentials reach nothing of the other's. Self-contained: reads
  // each app's URL from its env file, leaves nothing behind.
  /** `app`'s cache URL from its env file (root reads it), as `port password` for a shell `read`. */
  const cacheOf = (app: string, variable: string) =>
    `sed -n 's/^${variable}=//p' /etc/${app}/env | tr -d '"' | sed -E 's#^redis://:([^@]*)@[^:]*:([0-9]+)/.*#\\2 \\1#'`;
  /**
   * redis-cli run as `user`, on `port`, with the password of `app`'s cache (through
   * REDISCLI_AUTH, on no command line); its output and exit code.
   */
  const redisAs = (user: string, passwordOf: [string, string] | undefined, port: string, command: string) => fleet.ssh(HOST, [
    passwordOf ? `pw=$(${cacheOf(...passwordOf)} | cut -d' ' -f2)` : "true",
    `cd / && ${passwordOf ? 'REDISCLI_AUTH="$pw" ' : ""}timeout 20 runuser -u ${user} -- redis-cli --no-auth-warning -h 127.0.0.1 -p ${port} ${command} 2>&1; echo "exit $?"`,
  ].join("\n")).then((s) => s.trim());

  it("each app's Redis cache is its own server: its password opens it, the other app's server refuses it, Django's cache works through it", async () => {
    const sh = (cmd: string) => fleet.ssh(HOST, cmd).then((s) => s.trim());
    const [demoPort, demoPw] = (await sh(cacheOf("fleetdemo", "CACHE_URL"))).split(" ");
    const [blogPort, blogPw] = (await sh(cacheOf("blog", "BLOG_CACHE"))).split(" ");
    expect(demoPort).toMatch(/^\d+$/);
    expect(blogPort).toMatch(/^\d+$/);
    expect(demoPort).not.toBe(blogPort);
    expect(demoPw).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(blogPw).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(demoPw).not.toBe(blogPw);
    // One unit per app; Debian's shared server (no password) is masked and nothing listens on 6379.
    expect(await sh("systemctl is-active redis-server@fleetdemo.service redis-server@blog.service")).toBe("active\nactive");
    expect(await sh("systemctl is-enabled redis-server.service || true")).toBe("masked");
    expect(await sh("(exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && echo open || echo closed")).toBe("closed");
    // The password files are root's, readable by the redis group; no app user reads either.
    expect(await sh("stat -c '%a %U %G' /etc/redis/redis-fleetdemo-secret.conf /etc/redis/redis-blog-secret.conf")).toBe("640 root redis\n640 root redis");
    const read = (user: string, path: string) => sh(`runuser -u ${user} -- cat ${path} >/dev/null 2>&1 && echo read || echo refused`);
    expect(await read("blog", "/etc/redis/redis-fleetdemo-secret.conf")).toBe("refused");
    expect(await read("blog", "/etc/redis/redis-blog-secret.conf")).toBe("refused");

    // Django's cache goes through fleetdemo's own server: the page counts its views there.
    expect(await pageOf("fleetdemo.example", (b) => /<p id="cache">RedisCache views=\d+<\/p>/.test(b))).toMatch(/<p id="cache">RedisCache views=\d+<\/p>/);
    const keys = await redisAs("fleetdemo", ["fleetdemo", "CACHE_URL"], demoPort!, "-n 1 --scan --pattern '*page-views*'");
    expect(keys).toMatch(/page-views/);
    expect(keys).toMatch(/exit 0$/);

    // Each app writes and reads its own server.
    expect(await redisAs("blog", ["blog", "BLOG_CACHE"], blogPort!, "-n 1 SET probe-blog written")).toBe("OK\nexit 0");
    expect(await redisAs("blog", ["blog", "BLOG_CACHE"], blogPort!, "-n 1 GET probe-blog")).toBe("written\nexit 0");
    // The blog's password on fleetdemo's server (as the blog's user): refused, nothing read or written.
    for (const command of ["-n 1 GET :1:page-views", "-n 1 SET :1:page-views 0", "-n 1 KEYS '*'"]) {
      const r = await redisAs("blog", ["blog", "BLOG_CACHE"], demoPort!, command);
      expect(r, command).toMatch(/WRONGPASS|NOAUTH/);
      expect(r, command).not.toMatch(/page-views|^OK$/m);
    }
    // fleetdemo's password on the blog's server, and no password on either: refused.
    expect(await redisAs("fleetdemo", ["fleetdemo", "CACHE_URL"], blogPort!, "-n 1 GET probe-blog")).toMatch(/WRONGPASS|NOAUTH/);
    expect(await redisAs("blog", undefined, demoPort!, "PING")).toMatch(/NOAUTH/);
    expect(await redisAs("blog", undefined, blogPort!, "PING")).toMatch(/NOAUTH/);
    expect(await redisAs("blog", ["blog", "BLOG_CACHE"], blogPort!, "-n 1 DEL probe-blog")).toBe("1\nexit 0");
  }, 180_000);

  it("an app's Redis password changed by hand and a user added to another app's Redis are drift; one up puts both back in place, and the cache works", async () => {
    const sh = (cmd: string) => fleet.ssh(HOST, cmd).then((s) => s.trim());
    const [demoPort] = (await sh(cacheOf("fleetdemo", "CACHE_URL"))).split(" ");
    const [blogPort] = (await sh(cacheOf("blog", "BLOG_CACHE"))).split(" ");
    const pidOf = (unit: string) => pid(fleet, unit);
    const before = { demo: await pidOf("redis-server@fleetdemo"), blog: await pidOf("redis-server@blog") };
    expect(await redisAs("fleetdemo", ["fleetdemo", "CACHE_URL"], demoPort!, "CONFIG SET requirepass changed-by-hand")).toBe("OK\nexit 0");
    expect(await redisAs("blog", ["blog", "BLOG_CACHE"], blogPort!, "ACL SETUSER intruder on '>intruder-password' '~*' '+@all'")).toBe("OK\nexit 0");
    expect(await redisAs("fleetdemo", ["fleetdemo", "CACHE_URL"], demoPort!, "PING")).toMatch(/WRONGPASS|NOAUTH/);

    await t.stack.refresh({ onOutput: log });
    const drift = await changes(t, log);
    // In place: the password checks of both servers; no secret, file or database replaced.
    expect(drift.sort()).toEqual([`update ${HOST}-redis-blog-auth`, `update ${HOST}-redis-fleetdemo-auth`]);
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    // Each was restarted onto its files: our password again, the added user gone.
    expect(await pidOf("redis-server@fleetdemo")).not.toBe(before.demo);
    expect(await pidOf("redis-server@blog")).not.toBe(before.blog);
    expect(await redisAs("fleetdemo", ["fleetdemo", "CACHE_URL"], demoPort!, "PING")).toBe("PONG\nexit 0");
    const users = await redisAs("blog", ["blog", "BLOG_CACHE"], blogPort!, "ACL USERS");
    expect(users).toBe("default\nexit 0");
    // Django's cache reconnects to the restarted server.
    await waitFor("fleetdemo's page counting views in its Redis again", () => Promise.resolve(get("fleetdemo.example")[1]),
      (b) => /<p id="cache">RedisCache views=\d+<\/p>/.test(b), { timeoutMs: 60_000 });
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  // Issue 21: nginx serves an app's files only from inside that app's own folder.
  it("links the blog's user plants in its static folder do not publish another app's files; its own files still serve", async () => {
    const sh = (cmd: string) => fleet.ssh(HOST, cmd).then((s) => s.trim());
    // The blog's STATIC_ROOT as its nginx site serves it (the first alias), STATIC_URL /assets/.
    const root = (await sh("sed -n 's|^ *alias \\(.*\\)/;$|\\1|p' /etc/nginx/sites-enabled/blog.conf")).split("\n")[0];
    expect(root).toBe("/srv/blog/public/static");
    // A command run as the blog's user: its output, then `exit <status>`.
    const asBlog = (cmd: string) => sh(`cd / && runuser -u blog -- bash -c ${quote(cmd)} 2>&1 && echo "exit 0" || echo "exit $?"`);
    const other = fetchPath("fleetdemo.example", "/static/notes/site.css");
    expect(other.status).toBe(200);
    expect(other.body).toContain("font-family");

    // The layout: nginx passes through /srv/<app> (group www-data, search only), and is in
    // no app's group, so it cannot read an app's source; other apps' users cannot enter.
    expect(await sh("stat -c '%a %U %G' /srv/blog /srv/fleetdemo")).toBe("710 blog www-data\n710 fleetdemo www-data");
    expect((await sh("id -nG www-data")).split(" ")).toEqual(["www-data"]);
    const read = (user: string, path: string) => sh(`runuser -u ${user} -- cat ${path} >/dev/null 2>&1 && echo read || echo refused`);
    expect(await read("www-data", "/srv/blog/public/static/posts/blog.css")).toBe("read");
    expect(await read("www-data", "/srv/blog/current/source/manage.py")).toBe("refused");
    expect(await read("blog", "/srv/fleetdemo/public/static/notes/site.css")).toBe("refused");

    // Links made by the blog's user: to the other app's served file, its source, a
    // root-owned file every user may read, the other app's whole static folder; and one to
    // the blog's own file, which still serves (same owner).
    const planted: Record<string, string> = {
      "leak-static.css": "/srv/fleetdemo/public/static/notes/site.css",
      "leak-source.txt": "/srv/fleetdemo/current/source/manage.py",
      "leak-passwd.txt": "/etc/passwd",
      "leak-dir": "/srv/fleetdemo/public/static",
      "own-link.css": "posts/blog.css",
    };
    for (const [name, target] of Object.entries(planted)) expect(await asBlog(`ln -sfn -- ${target} ${root}/${name}`)).toBe("exit 0");
    const refused = (path: string, content: string) => {
      const r = fetchPath("blog.example", path);
      expect([403, 404], `${path}: HTTP ${r.status}`).toContain(r.status);
      expect(r.body).not.toContain(content);
    };
    try {
      refused("/assets/leak-static.css", "font-family");
      refused("/assets/leak-source.txt", "execute_from_command_line");
      refused("/assets/leak-passwd.txt", "root:x:0:0");
      refused("/assets/leak-dir/notes/site.css", "font-family");
      expect(fetchPath("blog.example", "/assets/own-link.css").status).toBe(200);
      expect(fetchPath("blog.example", "/assets/posts/blog.css").status).toBe(200);
      expect(fetchPath("fleetdemo.example", "/static/notes/site.css").status).toBe(200);

      // A hard link to a file another user owns cannot be made (fs.protected_hardlinks), so
      // no file of another owner can sit in the blog's folder without a link nginx refuses.
      expect(await sh("cat /proc/sys/fs/protected_hardlinks")).toBe("1");
      const hard = await asBlog(`ln -- /etc/passwd ${root}/hard-passwd.txt`);
      expect(hard).toContain("Operation not permitted");
      expect(hard).toMatch(/exit [1-9]/);

      // The static folder itself swapped for a link to the other app's: its URLs refuse too.
      expect(await asBlog(`mv -T -- ${root} ${root}.real && ln -s -- /srv/fleetdemo/public/static ${root}`)).toBe("exit 0");
      try {
        refused("/assets/notes/site.css", "font-family");
      } finally {
        expect(await asBlog(`if [ -L ${root} ]; then rm -- ${root} && mv -T -- ${root}.real ${root}; fi`)).toBe("exit 0");
      }
      expect(fetchPath("blog.example", "/assets/posts/blog.css").status).toBe(200);
    } finally {
      await asBlog(`rm -f -- ${Object.keys(planted).map((n) => `${root}/${n}`).join(" ")} ${root}/hard-passwd.txt`);
    }
  }, 120_000);

  it("a host of the older layout (nginx in the app's group, /srv/<app> 0750) is drift that one up repairs; nginx's workers drop the group", async () => {
    const sh = (cmd: string) => fleet.ssh(HOST, cmd).then((s) => s.trim());
    const gid = await sh("getent group blog | cut -d: -f3");
    expect(gid).toMatch(/^\d+$/);
    // The supplementary groups of each running nginx worker, one line per worker.
    const workerGroups = () => sh("for p in $(pgrep -u www-data -x nginx || true); do sed -n 's/^Groups:[[:space:]]*//p' /proc/$p/status 2>/dev/null || true; done");
    const anyWorkerIn = (lines: string) => lines.split("\n").some((l) => l.split(/\s+/).includes(gid));
    expect(anyWorkerIn(await workerGroups())).toBe(false);
    // As the layout before this one left it; nginx reloaded, so its workers hold the group.
    await sh("usermod -a -G blog www-data && chgrp blog /srv/blog && chmod 0750 /srv/blog && systemctl reload nginx");
    await waitFor("an nginx worker in the blog's group", workerGroups, anyWorkerIn, { timeoutMs: 60_000 });
    // The site alone refuses a planted link, even to a worker that may read the blog's source.
    expect(await sh("cd / && runuser -u blog -- ln -sfn -- /srv/fleetdemo/public/static/notes/site.css /srv/blog/public/static/leak-static.css && echo made")).toBe("made");
    try {
      expect([403, 404]).toContain(fetchPath("blog.example", "/assets/leak-static.css").status);

      await t.stack.refresh({ onOutput: log });
      const drift = await changes(t, log);
      expect(drift).toHaveLength(1);
      expect(drift[0]).toMatch(/^update \S*blog-layout$/);
      const res = await t.stack.up({ onOutput: log });
      expect(res.summary.result).toBe("succeeded");
      expect(await sh("stat -c '%a %U %G' /srv/blog")).toBe("710 blog www-data");
      expect((await sh("id -nG www-data")).split(" ")).toEqual(["www-data"]);
      await waitFor("no nginx worker in the blog's group", workerGroups, (l) => l !== "" && !anyWorkerIn(l), { timeoutMs: 60_000 });
      expect(fetchPath("blog.example", "/assets/posts/blog.css").status).toBe(200);
      expect([403, 404]).toContain(fetchPath("blog.example", "/assets/leak-static.css").status);
    } finally {
      await sh("rm -f -- /srv/blog/public/static/leak-static.css");
    }
  }, 600_000);

  it("a second preview expects no changes", async () => {
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);

  it("adding a third app previews as only its resources and the nginx reload, and restarts no other app", async () => {
    const before = { fleetdemo: await pid(fleet, "fleetdemo-gunicorn"), blog: await pid(fleet, "blog-gunicorn"), worker: await pid(fleet, "blog-celery-worker") };
    await t.stack.setAllConfig(config([FLEETDEMO, blog("blog"), blog("journal")]));
    const rec = stepRecorder();
    await t.stack.preview({ onEvent: rec.onEvent, onOutput: log });
    const notCreate = rec.steps.filter((s) => !s.startsWith("create "));
    expect(notCreate).toEqual(["update lb-nginx"]);
    expect(rec.steps.filter((s) => s.startsWith("create ") && !s.includes("journal"))).toEqual([]);

    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`third app added to a running fleet: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    const page = await pageOf("journal.example", (b) => b.includes(`<p id="task">wordcount=4 on ${HOST}</p>`));
    expect(page).toContain('<li class="post">First post from blog</li>');
    expect(await pid(fleet, "fleetdemo-gunicorn")).toBe(before.fleetdemo);
    expect(await pid(fleet, "blog-gunicorn")).toBe(before.blog);
    expect(await pid(fleet, "blog-celery-worker")).toBe(before.worker);
    expect(get("blog.example")[1]).toContain('<li class="post">');
  }, 900_000);

  // Issue 21: acting as the blog's user (a bug in one of its views is enough), try to make
  // root run its virtualenv's Python or follow a link out of /srv/blog. Self-contained: it
  // needs only the blog app, and leaves the stack's config, the blog's tree and release as
  // it found them.
  it("the blog's user plants a .pth file and links releases/ and its media folder to /etc: refresh, up --refresh and a deploy run none of it as root and change nothing outside /srv/blog; one up repairs", async () => {
    const sh = (cmd: string) => fleet.ssh(HOST, cmd).then((s) => s.trim());
    const asBlog = (cmd: string) => sh(`cd / && runuser -u blog -- bash -c ${quote(cmd)} 2>&1 && echo "exit 0" || echo "exit $?"`);
    const uid = await sh("id -u blog");
    expect(uid).toMatch(/^[1-9]\d*$/);
    const saved = await t.stack.getAllConfig();
    const savedApps = JSON.parse(saved["django-fleet:apps"]!.value) as Array<{ name: string }>;
    expect(savedApps.map((a) => a.name)).toContain("blog");
    const releaseBefore = await sh("readlink /srv/blog/current");
    expect(releaseBefore).toMatch(/^releases\/[0-9a-f]{12}$/);

    // A .pth file in the running release's site-packages: every start of that Python (and of
    // any release's copy of this virtualenv) appends its effective uid to /tmp/pth-ran-<uid>.
    const site = await sh("ls -d /srv/blog/current/venv/lib/python3*/site-packages");
    expect(site).toMatch(/^\/srv\/blog\/current\/venv\/lib\/python3\.\d+\/site-packages$/);
    const PTH = "zz-fleet-attack.pth";
    const pthLine = `import os; exec("try:\\n with open('/tmp/pth-ran-%d' % os.geteuid(), 'a') as f: f.write('%d\\\\n' % os.geteuid())\\nexcept OSError: pass")`;
    const markers = () => sh("ls /tmp/pth-ran-* 2>/dev/null | sort || true");
    await sh("rm -f /tmp/pth-ran-*");
    expect(await asBlog(`cat > ${site}/${PTH} <<'EOF'\n${pthLine}\nEOF`)).toBe("exit 0");
    // The planted file works: the blog's own Python runs it.
    expect(await asBlog("/srv/blog/current/venv/bin/python -c pass")).toBe("exit 0");
    expect(await markers()).toBe(`/tmp/pth-ran-${uid}`);
    await sh("rm -f /tmp/pth-ran-*");

    // Owner, group and mode of every path on the root file system outside /srv/blog. Left
    // out: /tmp and /var/tmp (the markers, and scratch files that come and go), and the
    // kernel's and runtime mounts (-xdev). Times and contents are not compared; paths that
    // come and go between the two listings (WAL segments, journal files, caches) are not
    // compared either, but none that is new may be the blog's (beyond its own /var/lib/blog).
    const snapshot = (file: string) => sh(`find / -xdev \\( -path /srv/blog -o -path /tmp -o -path /var/tmp \\) -prune -o -printf '%p\\t%u:%g %m\\n' | LC_ALL=C sort -t "$(printf '\\t')" -k1,1 > ${file}; wc -l < ${file}`);
    const BEFORE = "/root/fleet-owners-before";
    const AFTER = "/root/fleet-owners-after";

    const media = "/srv/blog/public/media";
    const branch = "attacked";
    const commit = publishBlogCommit(fleet.gitRoot, branch);
    const id = commit.slice(0, 12);
    let deployed = false;
    try {
      // releases/ and the media folder swapped for links to /etc, by the blog's user.
      expect(await asBlog("mv -T -- /srv/blog/releases /srv/blog/releases.real && ln -s -- /etc /srv/blog/releases")).toBe("exit 0");
      expect(await asBlog(`mv -T -- ${media} ${media}.real && ln -s -- /etc ${media}`)).toBe("exit 0");
      expect(Number(await snapshot(BEFORE))).toBeGreaterThan(10_000);

      // refresh, up --refresh, and a deploy of a new commit, all with the links in place.
      // The blog's steps fail (its user cannot write /etc); nothing may be done there as root.
      const refreshError = await t.stack.refresh({ onOutput: log }).then(() => "", (e: unknown) => String(e));
      const upError = await t.stack.up({ refresh: true, onOutput: log }).then(() => "", (e: unknown) => String(e));
      await t.stack.setAllConfig({ ...saved, "django-fleet:apps": { value: JSON.stringify(savedApps.map((a) => a.name === "blog" ? { ...a, ref: branch } : a)) } });
      deployed = true;
      const deployError = await t.stack.up({ onOutput: log }).then(() => "", (e: unknown) => String(e));
      console.log(`with releases -> /etc: refresh ${refreshError ? "failed" : "succeeded"}, up --refresh ${upError ? "failed" : "succeeded"}, deploy ${deployError ? "failed" : "succeeded"}`);
      // The deploy failed as the blog's user and left /etc as it was: at the blog's layout,
      // whose read (since the refresh) sees releases/ and the media folder are links now,
      // and which makes its folders again as the blog's user, who cannot change /etc.
      expect(deployError).toContain("user and directories for blog");
      expect(deployError).toContain("Operation not permitted");
      expect(await sh(`ls -d /etc/${id} /etc/.django-fleet-* 2>/dev/null || echo none`)).toBe("none");
      // The running blog still serves its old release from memory; nginx serves nothing of /etc through the media link.
      expect([403, 404]).toContain(fetchPath("blog.example", "/uploads/passwd").status);
      expect(fetchPath("blog.example", "/uploads/passwd").body).not.toContain("root:x:0:0");

      // The blog's user puts releases/ and its media folder back; one up (the new commit
      // still set) repairs.
      expect(await asBlog("rm -- /srv/blog/releases && mv -T -- /srv/blog/releases.real /srv/blog/releases")).toBe("exit 0");
      expect(await asBlog(`rm -- ${media} && mv -T -- ${media}.real ${media}`)).toBe("exit 0");
      const res = await t.stack.up({ onOutput: log });
      expect(res.summary.result).toBe("succeeded");
      expect(await sh("readlink /srv/blog/current")).toBe(`releases/${id}`);
      expect(await pageOf("blog.example", (b) => b.includes('<li class="post">First post from blog</li>'))).toContain('<li class="post">First post from blog</li>');

      // Nothing outside /srv/blog changed owner, group or mode; nothing new there is the blog's.
      await snapshot(AFTER);
      const tab = "\"$(printf '\\t')\"";
      const changed = await sh(`LC_ALL=C join -t ${tab} ${BEFORE} ${AFTER} | awk -F '\\t' '$2 != $3' | head -50`);
      expect(changed).toBe("");
      const newOfBlog = await sh(`LC_ALL=C join -t ${tab} -v 2 ${BEFORE} ${AFTER} | awk -F '\\t' '{ split($2, o, "[: ]"); if ((o[1] == "blog" || o[2] == "blog") && $1 !~ "^/var/lib/blog(/|$)") print }' | head -50`);
      expect(newOfBlog).toBe("");
      expect(Number(await sh(`LC_ALL=C join -t ${tab} ${BEFORE} ${AFTER} | wc -l`))).toBeGreaterThan(10_000);

      // The planted Python ran, as the blog's user (the new release's virtualenv is a copy
      // of the old one, .pth and all), and never as root or any other user.
      expect(await markers()).toBe(`/tmp/pth-ran-${uid}`);
      expect(await sh(`sort -u /tmp/pth-ran-${uid}`)).toBe(uid);
    } finally {
      // Put back what the blog's user changed, and the blog's release as it was.
      await asBlog("if [ -L /srv/blog/releases ]; then rm -- /srv/blog/releases && mv -T -- /srv/blog/releases.real /srv/blog/releases; fi");
      await asBlog(`if [ -L ${media} ]; then rm -- ${media} && mv -T -- ${media}.real ${media}; fi`);
      await asBlog(`rm -f -- /srv/blog/releases/*/venv/lib/python3*/site-packages/${PTH}`);
      await sh(`rm -f /tmp/pth-ran-* ${BEFORE} ${AFTER}`);
      if (deployed) {
        await t.stack.setAllConfig(saved);
        expect((await t.stack.up({ onOutput: log })).summary.result).toBe("succeeded");
      }
    }
    expect(await sh("readlink /srv/blog/current")).toBe(releaseBefore);
    expect(await sh(`test -d ${media} && test ! -L ${media} && echo folder`)).toBe("folder");
    expect(await changes(t, log)).toEqual([]);
  }, 1_500_000);

  it("removing an app removes its units, site and broker user, says so in the preview, and keeps its database", async () => {
    await t.stack.setAllConfig(config([FLEETDEMO, blog("journal")]));
    let preview = "";
    const rec = stepRecorder();
    await t.stack.preview({ onEvent: rec.onEvent, onOutput: (s) => { preview += s; } });
    output += preview;
    expect(preview).toContain('app "blog" is no longer in the config');
    expect(preview).toContain('Its database "blog" is kept');
    expect(rec.steps).toContain("delete apps13-blog-gunicorn");
    expect(rec.steps).toContain("delete broker-account-blog");
    expect(rec.steps).toContain("delete lb-site-blog");
    // Only the removed app's resources go; nothing of the others changes but the nginx reload.
    expect(rec.steps.filter((s) => !s.startsWith("delete ")).sort()).toEqual(["update lb-nginx"]);
    expect(rec.steps.filter((s) => s.startsWith("delete ") && !s.includes("blog"))).toEqual([]);

    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect((await fleet.ssh(HOST, "systemctl is-active blog-gunicorn blog-celery-worker blog-celery-beat || true")).trim().split("\n")).not.toContain("active");
    expect((await fleet.ssh(HOST, "ls /etc/systemd/system/ | grep -c '^blog-' || true")).trim()).toBe("0");
    expect((await fleet.ssh(HOST, "test -e /etc/nginx/sites-enabled/blog.conf && echo present || echo gone")).trim()).toBe("gone");
    // nginx no longer knows the name: the default server answers it.
    expect(get("blog.example")[0]).toBe(52);
    expect((await fleet.ssh(HOST, "rabbitmqctl -q list_users | awk '{print $1}' | grep -x blog || echo none")).trim()).toBe("none");
    // The database and its rows stay.
    expect((await fleet.ssh(HOST, "cd / && runuser -u postgres -- psql -d blog -XAtc 'SELECT count(*) FROM posts_post'")).trim()).toBe("3");
    // The others still serve.
    expect(await pageOf("journal.example", (b) => b.includes('class="post"'))).toContain('class="post"');
    expect(await pageOf("fleetdemo.example", (b) => b.includes('class="note"'))).toContain('class="note"');
    expect(await changes(t, log)).toEqual([]);
  }, 900_000);

  // Issue 20: a broker user's password is verified (self-contained: any earlier state of the fleet).
  // Issue 21: and no process's arguments, nor the journal, ever hold it.
  it("a RabbitMQ user's password changed by hand is drift that one up sets back, in place, on no command line; its worker connects again", async () => {
    const app = "journal";
    // The app's own broker URL, from its env file, to an AMQP login as the app user (kombu,
    // from its virtualenv): the URL travels in the environment, on no command line.
    const url = (a: string) => `grep -m1 -o 'amqp://${a}:[^"[:space:]]*' /etc/${a}/env`;
    const login = [
      `url=$(${url(app)})`,
      `cd / && URL="$url" timeout 60 runuser -u ${app} -- /srv/${app}/current/venv/bin/python -c '`,
      "import os, kombu",
      "c = kombu.Connection(os.environ[\"URL\"], connect_timeout=10)",
      "try:",
      "    c.connect(); print(\"accepted\")",
      "except Exception as e:",
      "    print(\"refused\", type(e).__name__)",
      "finally:",
      "    c.release()",
      "'",
    ].join("\n");
    expect((await fleet.ssh(HOST, login)).trim()).toBe("accepted");
    await fleet.ssh(HOST, `timeout 60 rabbitmqctl -q change_password ${app} changed-by-hand </dev/null`);
    expect((await fleet.ssh(HOST, login)).trim()).toMatch(/^refused /);

    // Every process's arguments, sampled through the refresh and the repair: the apps'
    // broker passwords (read from their env files into a root-only pattern file) must
    // never show; the control (a rabbitmqctl definitions call) must, or the sampler saw nothing.
    const secrets = "/root/argv-secrets";
    await fleet.ssh(HOST, [
      `umask 077; { ${url(app)}; ${url("fleetdemo")}; } | sed -e 's#^amqp://[^:]*:##' -e 's#@.*##' > ${secrets}`,
      `[ "$(grep -c . ${secrets})" = 2 ]`,
      "printf '%s\\n' _definitions > /root/argv-control",
      "rm -f /root/argv-hits /root/argv-sweeps",
      "systemd-run --quiet --unit=fleet-argv-watch /bin/bash -c 'n=0; while :; do a=$(cat /proc/[0-9]*/cmdline 2>/dev/null | tr \"\\0\" \" \"); n=$((n + 1)); " +
        `if printf "%s" "$a" | grep -qFf /root/argv-control; then echo control >> /root/argv-hits; fi; if printf "%s" "$a" | grep -qFf ${secrets}; then echo secret >> /root/argv-hits; fi; echo "$n" > /root/argv-sweeps; sleep 0.02; done'`,
    ].join("\n"));
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual([`update broker-account-${app}`]);
    const res = await t.stack.up({ onOutput: log });
    await fleet.ssh(HOST, "systemctl stop fleet-argv-watch");
    expect(res.summary.result).toBe("succeeded");
    const hits = (await fleet.ssh(HOST, "sort /root/argv-hits 2>/dev/null | uniq -c | awk '{print $2 \"=\" $1}'; echo sweeps=$(cat /root/argv-sweeps)")).trim().split("\n");
    console.log(`process arguments sampled during refresh and repair: ${hits.join(", ")}`);
    expect(hits.some((h) => h.startsWith("secret="))).toBe(false);
    expect(hits.some((h) => h.startsWith("control="))).toBe(true);
    expect(Number(hits.find((h) => h.startsWith("sweeps="))?.slice("sweeps=".length))).toBeGreaterThan(50);

    expect((await fleet.ssh(HOST, login)).trim()).toBe("accepted");
    // A restarted worker logs in with the password from its env file.
    await fleet.ssh(HOST, `systemctl restart ${app}-celery-worker`);
    const users = await waitFor(`${app}'s worker connected to RabbitMQ`, () => fleet.ssh(HOST, "rabbitmqctl -q list_connections user"),
      (s) => s.split("\n").map((l) => l.trim()).includes(app), { timeoutMs: 60_000 });
    expect(users.split("\n").map((l) => l.trim())).toContain(app);
    expect(await changes(t, log)).toEqual([]);

    // The journal keeps no broker password: not as a command line (su's PAM lines carry
    // rabbitmqctl's arguments as _CMDLINE), nor anywhere else.
    const inJournal = (filter: string) => fleet.ssh(HOST, `journalctl -o verbose --no-pager | ${filter} | grep -cFf ${secrets} || true`).then((s) => s.trim());
    expect(await inJournal("grep -a '^ *_CMDLINE='")).toBe("0");
    expect(await inJournal("cat")).toBe("0");
    await fleet.ssh(HOST, `rm -f ${secrets} /root/argv-control /root/argv-hits /root/argv-sweeps`);
  }, 600_000);

  // Issue 21: an app's broker user is no administrator; a tag given by hand is drift.
  it("a RabbitMQ tag given to an app's user by hand is drift that one up takes away", async () => {
    const tags = () => fleet.ssh(HOST, "rabbitmqctl -q list_users --formatter json </dev/null | python3 -c 'import json,sys; print(json.dumps([u[\"tags\"] for u in json.load(sys.stdin) if u[\"user\"] == \"journal\"]))'").then((s) => s.trim());
    await fleet.ssh(HOST, "timeout 60 rabbitmqctl -q set_user_tags journal administrator </dev/null");
    expect(await tags()).toMatch(/administrator/);
    await t.stack.refresh({ onOutput: log });
    expect(await changes(t, log)).toEqual(["update broker-account-journal"]);
    expect((await t.stack.up({ onOutput: log })).summary.result).toBe("succeeded");
    expect(await tags()).not.toMatch(/administrator/);
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);
});
