/**
 * Reading a private repository on this machine (lib/gitRemote.ts, lib/repoFiles.ts) from
 * the test's own token-protected git HTTP server (test/helpers/gitHttp.ts) on loopback:
 * the right token reads it, a wrong or missing one is refused naming the key to fix, and
 * the server saw what git sent. The hosts' credential helper is run against it too.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostGitOptions, renderCredentialFile } from "../../lib/gitCredential.ts";
import { resolveCommit, unreadable } from "../../lib/gitRemote.ts";
import { readRepoFiles } from "../../lib/repoFiles.ts";
import { startGitHttp, type GitHttpServer } from "../helpers/gitHttp.ts";

const USER = "deployer";
const TOKEN = `tok-${process.pid}-unit`;

describe("a token-protected HTTP repository, read from this machine", () => {
  let dir: string;
  let server: GitHttpServer;
  let commit: string;
  let url: string;
  const saved = { cache: process.env.DJANGO_FLEET_CACHE, global: process.env.GIT_CONFIG_GLOBAL, nosystem: process.env.GIT_CONFIG_NOSYSTEM };
  const restore = (k: string, v: string | undefined) => { if (v === undefined) delete process.env[k]; else process.env[k] = v; };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "fleet-git-remote-"));
    const work = join(dir, "work");
    const git = (args: string[], cwd = work) => execFileSync("git", args, {
      cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@localhost", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@localhost" },
    }).trim();
    execFileSync("git", ["init", "-q", "-b", "main", work]);
    writeFileSync(join(work, "requirements.txt"), "Django\n");
    git(["add", "-A"]);
    git(["-c", "commit.gpgsign=false", "commit", "-q", "-m", "one"]);
    execFileSync("git", ["clone", "-q", "--bare", work, join(dir, "private.git")]);
    commit = git(["rev-parse", "HEAD"]);
    process.env.DJANGO_FLEET_CACHE = join(dir, "cache");
    // No credential helper of this machine's own git config may answer for the token (or its absence).
    process.env.GIT_CONFIG_GLOBAL = "/dev/null";
    process.env.GIT_CONFIG_NOSYSTEM = "1";
    server = await startGitHttp({ root: dir, user: USER, token: TOKEN, listen: "127.0.0.1" });
    url = server.url("private");
  });
  afterAll(async () => {
    restore("DJANGO_FLEET_CACHE", saved.cache);
    restore("GIT_CONFIG_GLOBAL", saved.global);
    restore("GIT_CONFIG_NOSYSTEM", saved.nosystem);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the right token: the ref resolves and the files are read; the server saw our user and token", () => {
    const before = server.requests().length;
    expect(resolveCommit(url, "main", "app", { user: USER, token: TOKEN })).toBe(commit);
    const files = readRepoFiles(url, commit, ["requirements.txt"], { user: USER, token: TOKEN });
    expect(files.contents.get("requirements.txt")).toBe("Django\n");
    const seen = server.requests().slice(before);
    expect(seen.some((r) => r.auth === "ok" && r.status === 200 && r.path === "/private.git/info/refs")).toBe(true);
    expect(seen.some((r) => r.auth === "ok" && r.path === "/private.git/git-upload-pack")).toBe(true);
    expect(seen.filter((r) => r.auth === "wrong")).toEqual([]);
  });

  it("a wrong token: refused, the error names the token's key and its fix", () => {
    const before = server.requests().length;
    expect(() => resolveCommit(url, "main", "apps[1]", { user: USER, token: "not-the-token" })).toThrow(
      `apps[1].repoToken: ${url} refused the token (sent as user "${USER}"). Fix: \`npm run pulumi -- config set --secret --path 'apps[1].repoToken' <token>\``);
    expect(server.requests().slice(before).map((r) => `${r.auth} ${r.status}`)).toContain("wrong 401");
  });

  it("no token: the error says the repository asks for one, and how to give it", () => {
    expect(() => resolveCommit(url, "main", "app")).toThrow(`app.repo: ${url} asks for credentials. Fix: give its token as secret config, \`npm run pulumi -- config set --secret --path 'app.repoToken' <token>\``);
  });

  it("the hosts' fetch: git with hostGitOptions reads the credential file and authenticates", () => {
    const file = join(dir, "git-credential");
    writeFileSync(file, renderCredentialFile({ user: USER, token: TOKEN }), { mode: 0o600 });
    const mirror = join(dir, "mirror.git");
    execFileSync("git", ["init", "-q", "--bare", mirror]);
    const before = server.requests().length;
    execFileSync("git", [...hostGitOptions(file), "-C", mirror, "fetch", "--quiet", "--", url, "+refs/heads/*:refs/heads/*"], {
      stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GIT_TERMINAL_PROMPT: "0" },
    });
    expect(execFileSync("git", ["-C", mirror, "rev-parse", "refs/heads/main"], { encoding: "utf8" }).trim()).toBe(commit);
    expect(server.requests().slice(before).some((r) => r.auth === "ok" && r.path === "/private.git/git-upload-pack")).toBe(true);
  });

  it("other failures keep the plain message", () => {
    expect(unreadable(url, "app", undefined, "fatal: unable to access 'x': Could not resolve host: x")).toBeUndefined();
    expect(() => resolveCommit(url.replace("private", "missing"), "main", "app", { user: USER, token: TOKEN })).toThrow(/app\.repo: cannot read \S+missing\.git .*not found/);
  });
});
