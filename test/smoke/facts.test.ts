/**
 * The reads the program makes before registering anything, for real: a host's facts over
 * SSH (a real sshd on loopback, reading this machine's own /etc/os-release) and files of
 * the app's repository at a commit (a real git repository, fetched into the cache).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseOsRelease, releaseOf } from "../../config/releases.ts";
import type { HostPlan } from "../../config/topology.ts";
import { readHostFacts } from "../../lib/hostFacts.ts";
import { readRepoFiles } from "../../lib/repoFiles.ts";
import * as probe from "../../providers/remoteProbe.ops.ts";
import { startSshd, type LoopbackSshd } from "../helpers/sshd.ts";

const plan = (over: Partial<HostPlan>): HostPlan => ({
  name: "h", address: "127.0.0.1", privateAddress: "127.0.0.1", port: 22, user: "root",
  hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC", roles: new Set(["app"]), ...over,
});

describe("host facts over SSH", () => {
  let sshd: LoopbackSshd;
  beforeAll(async () => { sshd = await startSshd(); }, 60_000);
  afterAll(async () => { await sshd?.stop(); });

  it("reads the release and python3 of the host", async () => {
    const c = sshd.connection;
    const facts = await readHostFacts([{ plan: plan({ address: c.host, port: c.port!, hostKey: c.hostKey }), index: 0 }], c.privateKey);
    const expected = releaseOf(parseOsRelease(readFileSync("/etc/os-release", "utf8")));
    if (typeof expected === "string") throw new Error(`this machine is not a supported Debian: ${expected}`);
    const python = execFileSync("python3", ["-c", "import platform; print(platform.python_version())"], { encoding: "utf8" }).trim();
    expect(facts.get("h")).toEqual({ release: expected, python, apps: [] });
  }, 60_000);

  it("RemoteProbe: reads a fact, keeps it stale when the probe cannot run on refresh, and reads it again on up", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "fleet-probe-")), "fact.json");
    writeFileSync(file, '{"root":"/a"}');
    const state = { connection: sshd.connection, probe: `echo noise; v=$(cat ${file}); echo "FLEET_FACT=$v"\n`, triggers: { commit: "1" }, description: "test fact" };
    const created = await probe.create(state);
    expect(created.outs.value).toEqual({ root: "/a" });
    // Same inputs: nothing to do, and the value is stable for dependants.
    expect(await probe.diff(created.id, created.outs, state)).toMatchObject({ changes: false, stables: ["value"] });
    // The host lost what the probe needs (a rebuilt server): refresh keeps the value, marked stale.
    rmSync(file);
    const read = await probe.read(created.id, created.outs);
    expect(read.props).toMatchObject({ value: { root: "/a" }, stale: true });
    const d = await probe.diff(created.id, read.props, state);
    expect(d).toMatchObject({ changes: true, stables: [] });
    writeFileSync(file, '{"root":"/b"}');
    expect((await probe.update(created.id, read.props, state)).outs).toMatchObject({ value: { root: "/b" }, stale: false });
  }, 60_000);

  it("does not contact a host whose release is pinned", async () => {
    // Nothing listens on port 9 (discard): a contact attempt would fail.
    const facts = await readHostFacts([{ plan: plan({ port: 9 }), index: 0, pinned: "debian13" }], sshd.connection.privateKey);
    expect(facts.get("h")!.release.postgresql).toBe("17");
    expect(facts.get("h")!.python).toBe("3.13.5");
  });

  it("an unreachable host is a config error naming the host, its key and the fix", async () => {
    const err = await readHostFacts([{ plan: plan({ name: "web9", port: 9 }), index: 3 }], sshd.connection.privateKey)
      .then(() => "", (e: Error) => e.message);
    expect(err).toContain("nothing was changed on any server");
    expect(err).toContain("hosts[3] (web9, 127.0.0.1): cannot read its Debian release over SSH");
    expect(err).toContain("npm run pulumi -- config set --path 'hosts[3].os' debian13");
  }, 120_000);
});

describe("repository files at a commit", () => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-repo-"));
  const cache = join(dir, "cache");
  const repo = join(dir, "app.git");
  let commit = "";
  const saved = process.env.DJANGO_FLEET_CACHE;

  beforeAll(() => {
    process.env.DJANGO_FLEET_CACHE = cache;
    const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
    execFileSync("git", ["init", "-q", "-b", "main", repo]);
    writeFileSync(join(repo, "pyproject.toml"), '[project]\nname = "shop"\nrequires-python = ">=3.12"\n');
    writeFileSync(join(repo, "uv.lock"), "version = 1\n");
    execFileSync("git", ["-C", repo, "add", "-A"], { env });
    execFileSync("git", ["-C", repo, "commit", "-q", "-m", "one"], { env });
    commit = execFileSync("git", ["-C", repo, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.DJANGO_FLEET_CACHE; else process.env.DJANGO_FLEET_CACHE = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it("lists the root and reads the files that exist", () => {
    const snap = readRepoFiles(repo, commit, ["pyproject.toml", ".python-version", "requirements.txt"]);
    expect([...snap.rootFiles].sort()).toEqual(["pyproject.toml", "uv.lock"]);
    expect(snap.contents.get("pyproject.toml")).toContain('requires-python = ">=3.12"');
    expect([...snap.contents.keys()]).toEqual(["pyproject.toml"]);
  });

  it("reads a cached commit without the remote", () => {
    rmSync(join(repo, "objects"), { recursive: true, force: true });
    expect([...readRepoFiles(repo, commit, ["pyproject.toml"]).rootFiles].sort()).toEqual(["pyproject.toml", "uv.lock"]);
  });

  it("a repository URL that looks like an option is never run", () => {
    const marker = join(dir, "pwned");
    const bad = `--upload-pack=touch ${marker};`;
    expect(() => readRepoFiles(bad, "0".repeat(40), [])).toThrow(/app\.repo: cannot fetch --upload-pack=/);
    expect(existsSync(marker)).toBe(false);
  });
});
