/**
 * Links and credentials read back (issue 20, part 3): where `current` resolves
 * (lib/releaseCurrent.ts), the PostgreSQL owner's login (providers/postgresDatabase.ops.ts),
 * Redis's password and ACL (lib/brokerAuth.ts); a RabbitMQ user's: rabbitAccount.test.ts.
 * Parsers and plans are tables; the scripts are RUN with bash against stand-ins for
 * runuser, psql, redis-cli and systemctl on PATH, which record their arguments, so a
 * password on a command line would show.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REDIS_PASSWORD_VAR, redisAuthCheck, redisAuthRepair } from "../../lib/brokerAuth.ts";
import { currentProbe, parseCurrent, type CurrentLink } from "../../lib/releaseCurrent.ts";
import * as db from "../../providers/postgresDatabase.ops.ts";
import { switchPlan, type SwitchState } from "../../providers/releaseSwitch.ops.ts";
import { withSecrets } from "../../providers/remoteScript.ops.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "fleet-creds-"));
  DIRS.push(d);
  return d;
}

/** Stand-in commands; each appends `name args` and, on a second line, its stdin's first line to `calls`. */
function shims(bodies: Record<string, string>): { path: string; dir: string; calls: () => string } {
  const dir = tempDir();
  const log = join(dir, "calls");
  writeFileSync(log, "");
  for (const [name, body] of Object.entries(bodies)) {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(f, 0o755);
  }
  return { path: `${dir}:${process.env.PATH}`, dir, calls: () => readFileSync(log, "utf8") };
}

function bash(body: string, path: string, env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: body, encoding: "utf8", env: { ...process.env, PATH: path, ...env } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const ID = "3f2a1c0e9b7d";
const OTHER = "9b7e44d0a1c2";

describe("current link: parseCurrent", () => {
  const cases: Array<[string, string, CurrentLink]> = [
    ["relative link to a release", `link releases/${ID}\nresolves\n`, { kind: "release", id: ID }],
    ["absolute link to a release", `link /srv/shop/releases/${ID}\nresolves\n`, { kind: "release", id: ID }],
    ["./ and a trailing slash", `link ./releases/${ID}/\nresolves\n`, { kind: "release", id: ID }],
    ["a detour that normalises to a release", `link releases/../releases/${ID}\nresolves\n`, { kind: "release", id: ID }],
    ["ln -sfn /tmp current", "link /tmp\nresolves\n", { kind: "other", what: "current -> /tmp" }],
    ["a dangling relative target", "link releases/nonexistent\ndangling\n", { kind: "other", what: "current -> releases/nonexistent (dangling)" }],
    ["the release itself deleted", `link releases/${ID}\ndangling\n`, { kind: "other", what: `current -> releases/${ID} (dangling)` }],
    ["another app's release", `link /srv/blog/releases/${ID}\nresolves\n`, { kind: "other", what: `current -> /srv/blog/releases/${ID}` }],
    ["a folder inside a release", `link releases/${ID}/source\nresolves\n`, { kind: "other", what: `current -> releases/${ID}/source` }],
    ["the releases folder itself", "link releases\nresolves\n", { kind: "other", what: "current -> releases" }],
    ["no link", "missing\n", { kind: "other", what: "(no current link)" }],
    ["a directory put in its place", "not-a-link\n", { kind: "other", what: "(current is not a link)" }],
  ];
  for (const [name, stdout, expected] of cases) {
    it(name, () => expect(parseCurrent("shop", stdout)).toEqual(expected));
  }
  it("throws on anything else", () => {
    expect(() => parseCurrent("shop", "")).toThrow('unexpected current-link probe output: ""');
    expect(() => parseCurrent("shop", "link /tmp\n")).toThrow('unexpected current-link probe output: "link /tmp"');
    expect(() => parseCurrent("shop", "link /tmp\nmaybe\n")).toThrow("unexpected current-link probe output");
  });
});

describe("current link: the probe, run", () => {
  // The probe names /srv/shop; here it runs against a temporary tree, with runuser as a
  // stand-in that runs the command (as this user) and records that it was asked for.
  const setup = () => {
    const root = tempDir();
    mkdirSync(join(root, "releases", ID), { recursive: true });
    const s = shims({ runuser: `[ "$1" = -u ] && [ "$3" = -- ] || exit 99\nshift 3\nexec "$@"` });
    const run = () => {
      const r = bash(currentProbe("shop").replaceAll("/srv/shop", root), s.path);
      expect(r.code).toBe(0);
      return parseCurrent("shop", r.stdout.replaceAll(root, "/srv/shop"));
    };
    return { root, s, run, link: (target: string) => symlinkSync(target, join(root, "current")) };
  };
  const cases: Array<[string, string | undefined, CurrentLink]> = [
    ["a release", `releases/${ID}`, { kind: "release", id: ID }],
    ["/tmp", "/tmp", { kind: "other", what: "current -> /tmp" }],
    ["a dangling relative target", "releases/gone", { kind: "other", what: "current -> releases/gone (dangling)" }],
    ["no link", undefined, { kind: "other", what: "(no current link)" }],
  ];
  for (const [name, target, expected] of cases) {
    it(name, () => {
      const t = setup();
      if (target !== undefined) t.link(target);
      expect(t.run()).toEqual(expected);
      // Whether the target resolves is asked as the app user, only when there is a link.
      expect(t.s.calls()).toBe(target === undefined ? "" : `runuser -u shop -- test -d ${t.root}/current/\n`);
    });
  }
  it("a directory in its place", () => {
    const t = setup();
    mkdirSync(join(t.root, "current"));
    expect(t.run()).toEqual({ kind: "other", what: "(current is not a link)" });
  });
  it("a link holding a newline stays one line", () => {
    const t = setup();
    t.link(`/tmp\nresolves`);
    expect(t.run()).toEqual({ kind: "other", what: "current -> /tmp resolves (dangling)" });
  });
});

describe("current link: the switch's plan when current is not a release", () => {
  const base: SwitchState = {
    connection: { host: "10.0.0.11", hostKey: "ssh-ed25519 AAAA", privateKey: "k" },
    app: "shop", release: ID, unit: "shop-gunicorn.service", restartOn: { env: "e1" },
    health: { url: "http://10.0.0.11:8000/", hostHeader: "10.0.0.11", timeoutSeconds: 60 }, keepReleases: 3, inService: true,
  };
  it.each([
    ["refresh read current -> /tmp; the link still points there -> switch", { ...base, release: "current -> /tmp" }, ""],
    ["refresh read a dangling link; the build re-linked it meanwhile -> switch (restart onto it)", { ...base, release: `current -> releases/${ID} (dangling)` }, ID],
    ["a first switch onto a host whose current is not a release -> switch", undefined, ""],
  ] as const)("%s", (_what, olds, observed) => {
    expect(switchPlan(olds, base, observed)).toBe("switch");
  });
  it("nothing changed -> none (the empty plan)", () => {
    expect(switchPlan(base, { ...base }, ID)).toBe("none");
  });
  it("another release by hand -> switch", () => {
    expect(switchPlan({ ...base, release: OTHER }, base, OTHER)).toBe("switch");
  });
});

describe("postgresDatabase: the owner's login", () => {
  const conn = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA", privateKey: "k" };
  const desired: db.DatabaseState = { connection: conn, database: "shop", owner: "shop", password: "s3cretPassw0rd", port: 5433 };
  const present = { roleExists: true, databaseExists: true, publicConnect: false };

  const parse: Array<[string, string, db.ObservedDatabase]> = [
    ["ok", "1 1 0\nlogin ok\n", { ...present, login: "ok" }],
    ["rejected", "1 1 0\nlogin rejected\n", { ...present, login: "rejected" }],
    ["unknown (no server answered)", "0 0 0\nlogin unknown", { roleExists: false, databaseExists: false, publicConnect: false, login: "unknown" }],
  ];
  for (const [name, stdout, expected] of parse) {
    it(`parseObserved: ${name}`, () => expect(db.parseObserved(stdout)).toEqual(expected));
  }
  it("parseObserved throws on anything else", () => {
    expect(() => db.parseObserved("1 1 0\n")).toThrow('unexpected database probe output: "1 1 0"');
    expect(() => db.parseObserved("1 1 0\nlogin maybe\n")).toThrow("unexpected database probe output");
    expect(() => db.parseObserved("")).toThrow('unexpected database probe output: ""');
  });

  const psql = "runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 <<'FLEET_EOF'";
  const alter = [psql, "ALTER ROLE \"shop\" WITH LOGIN PASSWORD 's3cretPassw0rd' VALID UNTIL 'infinity';", "FLEET_EOF"];
  const plans: Array<[string, db.ObservedDatabase, boolean, string[] | ""]> = [
    ["login ok: nothing to do (the empty plan)", { ...present, login: "ok" }, false, ""],
    ["login rejected (ALTER ROLE ... PASSWORD by hand): the password set again", { ...present, login: "rejected" }, false, alter],
    ["login unknown: the password set again (harmless)", { ...present, login: "unknown" }, false, alter],
    ["login ok but the password changed in config", { ...present, login: "ok" }, true, alter],
    ["not tried (the bench's peer): as before", present, false, ""],
  ];
  for (const [name, observed, changed, expected] of plans) {
    it(`plan: ${name}`, () => expect(db.plan(desired, observed, changed)).toBe(expected === "" ? "" : expected.join("\n") + "\n"));
  }

  it("diff: a password refresh found refused is an update, never a replace; a state without the field is not a change", async () => {
    const news = { ...desired, passwordAccepted: true };
    expect(await db.diff("id", { ...news, passwordAccepted: false }, news)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(await db.diff("id", desired, news)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await db.diff("id", { ...news }, news)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  });

  const runs: Array<[string, string, string]> = [
    ["psql connects", "exit 0", "login ok"],
    ["the server refuses the password", `echo 'psql: error: connection to server at "127.0.0.1", port 5433 failed: FATAL:  password authentication failed for user "shop"' >&2; exit 2`, "login rejected"],
    ["no server answers", `echo 'psql: error: connection to server at "127.0.0.1", port 5433 failed: Connection refused' >&2; exit 2`, "login unknown"],
  ];
  for (const [name, body, expected] of runs) {
    it(`loginScript, run: ${name}; the password only in psql's environment`, () => {
      const s = shims({ psql: `echo "env PGPASSWORD=$PGPASSWORD" >> "$(dirname "$0")/calls"\n${body}` });
      const r = bash(db.loginScript(desired), s.path);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${expected}\n`);
      expect(s.calls()).toBe("psql -XAtqw -h 127.0.0.1 -p 5433 -U shop -d shop -c SELECT 1\nenv PGPASSWORD=s3cretPassw0rd\n");
    });
  }
  it("observeScript: the probe's counts and the login, one line each, in one script", () => {
    const s = shims({ psql: "exit 0", runuser: "echo '1 1 0'", id: "exit 0" });
    const r = bash(db.observeScript(desired), s.path);
    expect(r.code).toBe(0);
    expect(db.parseObserved(r.stdout)).toEqual({ ...present, login: "ok" });
  });
});

describe("Redis: the password and the ACL, checked by logging in", () => {
  const PW = "r3disPassw0rdXYZ";
  const SHA = createHash("sha256").update(PW).digest("hex");
  /** A redis-cli that accepts `accept` and answers `acl list` with `acl`. */
  const redis = (accept: string, acl: string, afterRestart?: { accept: string; acl: string }) => shims({
    "redis-cli": [
      `state=$(dirname "$0")/restarted`,
      `accept=${JSON.stringify(accept)}; acl=${JSON.stringify(acl)}`,
      ...(afterRestart ? [`if [ -e "$state" ]; then accept=${JSON.stringify(afterRestart.accept)}; acl=${JSON.stringify(afterRestart.acl)}; fi`] : []),
      `if [ "$REDISCLI_AUTH" != "$accept" ]; then echo "AUTH failed: WRONGPASS invalid username-password pair or user is disabled."; echo "NOAUTH Authentication required."; exit 0; fi`,
      `case "$*" in *ping) echo PONG ;; *"acl list") printf '%b\\n' "$acl" ;; esac`,
    ].join("\n"),
    systemctl: `touch "$(dirname "$0")/restarted"`,
  });
  const good = `user default on sanitize-payload #${SHA} ~* &* +@all`;
  const cases: Array<[string, string, string, number]> = [
    ["our password, the only one", PW, good, 0],
    ["CONFIG SET requirepass by hand", "other", `user default on #${"0".repeat(64)} ~* &* +@all`, 1],
    ["a second password added (ACL SETUSER default >x)", PW, `user default on #${SHA} #${"1".repeat(64)} ~* &* +@all`, 1],
    ["nopass", PW, "user default on nopass ~* &* +@all", 1],
    ["a second user", PW, `${good}\\nuser intruder on #${"2".repeat(64)} ~* &* +@all`, 1],
  ];
  for (const [name, accept, acl, code] of cases) {
    it(`check: ${name} -> exit ${code}; the password only in redis-cli's environment`, () => {
      const s = redis(accept, acl);
      const r = bash(withSecrets(redisAuthCheck(), { [REDIS_PASSWORD_VAR]: PW }), s.path);
      expect(r.code).toBe(code);
      expect(s.calls()).not.toContain(PW);
    });
  }
  it("repair: nothing when the check passes (no restart)", () => {
    const s = redis(PW, good);
    const r = bash(withSecrets(redisAuthRepair("redis-server.service", "/etc/redis/s.conf", 6379, 1), { [REDIS_PASSWORD_VAR]: PW }), s.path);
    expect(r.code).toBe(0);
    expect(s.calls()).not.toContain("systemctl");
  });
  it("repair: a password set by hand -> restart onto the files, then the check passes", () => {
    const s = redis("other", "user default on nopass", { accept: PW, acl: good });
    const r = bash(withSecrets(redisAuthRepair("redis-server.service", "/etc/redis/s.conf", 6379, 1), { [REDIS_PASSWORD_VAR]: PW }), s.path);
    expect(r.code).toBe(0);
    expect(s.calls()).toContain("systemctl restart redis-server.service\n");
  });
  it("repair: still refused after the restart -> fails, naming where to look", () => {
    const s = redis("other", "user default on nopass");
    const r = bash(withSecrets(redisAuthRepair("redis-server.service", "/etc/redis/s.conf", 6379, 1), { [REDIS_PASSWORD_VAR]: PW }), s.path);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Redis (redis-server.service) still does not accept the password in /etc/redis/s.conf");
    expect(r.stderr).not.toContain(PW);
  });
});
