/**
 * What a killed run leaves in the local file backend, and what scripts/pulumi (the
 * documented recovery: run it again) does about it, with the real CLI: an empty ".attrs"
 * sidecar (the backend writes it in place, so a SIGKILL between creating and writing it
 * empties it, and every later read of the state fails with "EOF"), and a lock whose
 * process is gone. A lock held by a live process is never touched.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../helpers/pulumi.ts";

const STACK = "interrupted";

describe("scripts/pulumi after an interrupted run", () => {
  const dir = mkdtempSync(join(tmpdir(), "fleet-interrupted-"));
  const env = { ...process.env, PULUMI_BACKEND_URL: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: "not-a-secret" };
  const stacksDir = join(dir, ".pulumi/stacks/django-fleet");
  const locksDir = join(dir, ".pulumi/locks/organization/django-fleet", STACK);
  const ours = (...args: string[]) => spawnSync("bash", [join(ROOT, "scripts/pulumi"), ...args], { cwd: ROOT, env, encoding: "utf8" });
  const raw = (...args: string[]) => {
    const bin = readFileSync(join(ROOT, ".toolchain/pulumi-bin"), "utf8").trim();
    return spawnSync(join(bin, "pulumi"), args, { cwd: ROOT, env, encoding: "utf8" });
  };
  const lock = (pid: number) => JSON.stringify({ pid, username: "root", hostname: hostname(), timestamp: new Date().toISOString() });

  beforeAll(() => {
    const init = ours("stack", "init", STACK, "--secrets-provider", "passphrase", "--non-interactive");
    expect(init.status, init.stderr).toBe(0);
  }, 60_000);
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    // `stack init` writes the stack's settings file (its passphrase salt) into the project.
    rmSync(join(ROOT, `Pulumi.${STACK}.yaml`), { force: true });
  });

  it("an empty state sidecar: the plain CLI cannot read the stack; ours removes the sidecar, says so, and reads it", () => {
    const sidecar = join(stacksDir, `${STACK}.json.attrs`);
    expect(existsSync(sidecar)).toBe(true);
    writeFileSync(sidecar, "");
    const before = raw("stack", "ls", "--json");
    expect(before.status).not.toBe(0);
    expect(before.stderr).toContain("EOF");
    const after = ours("stack", "ls", "--json");
    expect(after.status, after.stderr).toBe(0);
    expect(after.stderr).toContain(`removing an empty state sidecar left by an interrupted run: .pulumi/stacks/django-fleet/${STACK}.json.attrs`);
    expect((JSON.parse(after.stdout) as Array<{ name: string }>).map((s) => s.name)).toEqual([STACK]);
    expect(existsSync(sidecar)).toBe(false);
  }, 60_000);

  it("a lock of a process that is gone is removed; a live process's lock is kept", () => {
    // A pid that existed and has ended: a child that ran to completion.
    const gone = Number(execFileSync("bash", ["-c", "echo $$"], { encoding: "utf8" }).trim());
    mkdirSync(locksDir, { recursive: true });
    writeFileSync(join(locksDir, "stale.json"), lock(gone));
    writeFileSync(join(locksDir, "live.json"), lock(process.pid));
    const res = ours("stack", "ls", "--json", "--stack", STACK);
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr).toContain(`removing the lock of an interrupted run (pid ${gone} is gone)`);
    expect(existsSync(join(locksDir, "stale.json"))).toBe(false);
    expect(existsSync(join(locksDir, "live.json"))).toBe(true);
  }, 60_000);
});
