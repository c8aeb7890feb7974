/**
 * Bad input through the real engine: the real CLI runs the real program (index.ts) with
 * invalid configs. Each is refused with its key named, in seconds, before anything could
 * reach a server: an `ssh` first on the engine's PATH records every call (none may come),
 * git option injection leaves no trace, and the stack's state is byte-identical after a
 * refused preview and holds no resource after a refused up.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { startGitHttp } from "../helpers/gitHttp.ts";
import { ROOT, setSecretConfig, testStack, type TestStack } from "../helpers/pulumi.ts";
import { stepRecorder } from "../helpers/steps.ts";

const dir = mkdtempSync(join(tmpdir(), "fleet-refusals-"));
const sshLog = join(dir, "ssh-calls.log");
const marker = join(dir, "pwned");
const bin = join(dir, "bin");

function tree(d: string): string {
  const h = createHash("sha256");
  const walk = (p: string) => {
    for (const f of readdirSync(p).sort()) {
      const q = join(p, f);
      if (statSync(q).isDirectory()) walk(q); else h.update(q).update(readFileSync(q));
    }
  };
  walk(d);
  return h.digest("hex");
}

const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIN3tFv3wrJR0sTIg7yQ1ikCFNbm1PwPaISwPLvWoTgrv";
const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
const ROLES = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"];

function base(): Record<string, { value: string }> {
  return {
    "django-fleet:sshPrivateKeyPath": c(join(dir, "id")),
    "django-fleet:hosts": c([{ name: "web", address: "198.18.0.250", hostKey: HOST_KEY, roles: ROLES }]),
    "django-fleet:app": c({ name: "shop", repo: join(dir, "none.git"), settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
  };
}

const CASES: Array<[string, Record<string, { value: string }>, string]> = [
  ["git option injection in app.repo", { ...base(), "django-fleet:app": c({ name: "shop", repo: `--upload-pack=touch ${marker};`, settingsModule: "s.settings", wsgiModule: "s.wsgi:application" }) },
    "app.repo: must be a git URL"],
  ["ssh option injection in an address", { ...base(), "django-fleet:hosts": c([{ name: "web", address: `-oProxyCommand=touch ${marker}`, hostKey: HOST_KEY, roles: ROLES }]) },
    "hosts[0].address: must be an IP address or a DNS name"],
  ["a namespace typo", { ...base(), "django-flet:protectData": c("true") },
    "django-flet:protectData: the namespace \"django-flet\" is not \"django-fleet\""],
  ["nginx syntax in serverName", { ...base(), "django-fleet:loadBalancer": c({ serverName: "example.com; return 444" }) },
    "loadBalancer.serverName: must be host names separated by single spaces"],
  ["the app running as root", { ...base(), "django-fleet:app": c({ name: "root", repo: join(dir, "none.git"), settingsModule: "s.settings", wsgiModule: "s.wsgi:application" }) },
    "app.name: is a system account"],
  ["a host key that is not a key", { ...base(), "django-fleet:hosts": c([{ name: "web", address: "198.18.0.250", hostKey: "ssh-ed25519 AAAA", roles: ROLES }]) },
    "hosts[0].hostKey: is not a valid SSH public key"],
];

describe("invalid configs through the real engine", () => {
  let t: TestStack;
  let log = "";
  beforeAll(async () => {
    // A recording ssh: any call is a failure of the test.
    const { mkdirSync } = await import("node:fs");
    mkdirSync(bin);
    writeFileSync(join(bin, "ssh"), `#!/bin/sh\necho "$@" >> '${sshLog}'\nexit 255\n`);
    chmodSync(join(bin, "ssh"), 0o755);
    writeFileSync(join(dir, "id"), "-----BEGIN OPENSSH PRIVATE KEY-----\nnot used\n-----END OPENSSH PRIVATE KEY-----\n", { mode: 0o600 });
    t = await testStack(ROOT, `refusals-${process.pid}`, bin);
  }, 120_000);
  afterAll(async () => {
    await t?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("control: a valid config does reach ssh (the recorder works), and the unreachable host is named", async () => {
    const repo = join(dir, "app");
    const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    writeFileSync(join(repo, "requirements.txt"), "Django\n");
    execFileSync("git", ["-C", repo, "add", "-A"], { env });
    execFileSync("git", ["-C", repo, "commit", "-q", "-m", "x"], { env });
    await t.stack.setAllConfig({ ...base(), "django-fleet:app": c({ name: "shop", repo, settingsModule: "s.settings", wsgiModule: "s.wsgi:application" }) });
    const err = await t.stack.preview({ onOutput: (s) => { log += s; } }).then(() => "", (e: Error) => e.message);
    expect(err).toContain("hosts[0] (web, 198.18.0.250): cannot read its Debian release over SSH");
    expect(readFileSync(sshLog, "utf8")).toContain("198.18.0.250");
    rmSync(sshLog);
  }, 120_000);

  for (const [name, config, message] of CASES) {
    it(`${name}: refused by preview and up, key named, no ssh, state untouched`, async () => {
      await t.stack.setAllConfig(config);
      const before = tree(t.backendDir);
      const started = Date.now();
      const rec = stepRecorder();
      const err = await t.stack.preview({ onEvent: rec.onEvent, onOutput: (s) => { log += s; } }).then(() => "", (e: Error) => e.message);
      const seconds = (Date.now() - started) / 1000;
      console.log(`${name}: preview refused in ${seconds.toFixed(1)} s`);
      expect(err).toContain(message);
      expect(err).toContain("nothing was changed on any server");
      // One block: the message, not a stack trace of the program.
      expect(err).not.toMatch(/\n\s+at .*\.(ts|js):\d+/);
      expect(seconds).toBeLessThan(15);
      expect(tree(t.backendDir)).toBe(before);

      const up = await t.stack.up({ onEvent: rec.onEvent, onOutput: (s) => { log += s; } }).then(() => "", (e: Error) => e.message);
      expect(up).toContain(message);
      expect(rec.steps).toEqual([]);
      // Only the stack itself, which the engine records for any run: not one of ours.
      const resources = ((await t.stack.exportStack()).deployment.resources ?? []) as Array<{ type: string }>;
      expect(resources.map((r) => r.type).filter((x) => x !== "pulumi:pulumi:Stack")).toEqual([]);
      expect(existsSync(sshLog) ? readFileSync(sshLog, "utf8") : "").toBe("");
      expect(existsSync(marker)).toBe(false);
    }, 120_000);
  }

  it("a repoToken the repository's server refuses: app.repoToken named, no ssh; the server turned away this machine's git", async () => {
    // A private copy of a one-commit repository behind the test's token-protected git HTTP server.
    const repos = join(dir, "private");
    const work = join(dir, "private-work");
    const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
    execFileSync("git", ["init", "-q", "-b", "main", work]);
    writeFileSync(join(work, "requirements.txt"), "Django\n");
    execFileSync("git", ["-C", work, "add", "-A"], { env });
    execFileSync("git", ["-C", work, "commit", "-q", "-m", "x"], { env });
    execFileSync("git", ["clone", "-q", "--bare", work, join(repos, "shop.git")]);
    const git = await startGitHttp({ root: repos, user: "deployer", token: `right-${process.pid}`, listen: "127.0.0.1" });
    try {
      const url = git.url("shop");
      // Key by key, as a user sets them, so the token can be set alone as a secret.
      // Only this config: the earlier cases' keys (a typo'd namespace, ...) removed.
      const keys = Object.keys(await t.stack.getAllConfig());
      if (keys.length) await t.stack.removeAllConfig(keys);
      const { "django-fleet:app": _app, ...rest } = base();
      await t.stack.setAllConfig(rest);
      await t.stack.setAllConfig({
        "django-fleet:app.name": c("shop"), "django-fleet:app.repo": c(url), "django-fleet:app.repoUser": c("deployer"),
        "django-fleet:app.settingsModule": c("s.settings"), "django-fleet:app.wsgiModule": c("s.wsgi:application"),
      }, true);
      setSecretConfig(t, "django-fleet:app.repoToken", `wrong-${process.pid}`);
      const err = await t.stack.preview({ onOutput: (s) => { log += s; } }).then(() => "", (e: Error) => e.message);
      expect(err).toContain(`app.repoToken: ${url} refused the token (sent as user "deployer"). Fix: \`npm run pulumi -- config set --secret --path 'app.repoToken' <token>\``);
      expect(err).toContain("nothing was changed on any server");
      expect(err).not.toContain(`wrong-${process.pid}`);
      expect(log).not.toContain(`wrong-${process.pid}`);
      expect(git.requests().map((r) => `${r.auth} ${r.status}`)).toContain("wrong 401");
      expect(existsSync(sshLog) ? readFileSync(sshLog, "utf8") : "").toBe("");
    } finally {
      await git.stop();
      await t.stack.removeConfig("django-fleet:app");
    }
  }, 120_000);
});
