/**
 * Smoke test of the toolchain (issue: the Pulumi toolchain on a fresh machine): the real
 * engine built by scripts/setup, our language host and the dynamic-provider plugin run a
 * tiny program with a generated secret and a remote script over SSH to a real sshd on
 * loopback: up, preview with no changes, destroy.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, stateText, testStack, type TestStack } from "../helpers/pulumi.ts";
import { startSshd, type LoopbackSshd } from "../helpers/sshd.ts";

describe("toolchain smoke test", () => {
  let sshd: LoopbackSshd;
  let t: TestStack;
  const dir = mkdtempSync(join(tmpdir(), "fleet-smoke-target-"));
  let output = "";
  const log = (s: string) => { output += s; };

  beforeAll(async () => {
    sshd = await startSshd();
    t = await testStack(join(ROOT, "test/fixtures/smoke"), `smoke-${process.pid}`);
    await t.stack.setConfig("connection", { value: JSON.stringify(sshd.connection), secret: true });
    await t.stack.setConfig("dir", { value: dir });
  }, 120_000);

  afterAll(async () => {
    await t?.cleanup();
    await sshd?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("pulumi version is the pinned one", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const bin = readFileSync(join(ROOT, ".toolchain/pulumi-bin"), "utf8").trim();
    const v = execFileSync(join(bin, "pulumi"), ["version"], { encoding: "utf8" }).trim();
    expect(v).toBe(`v${pkg.dependencies["@pulumi/pulumi"]}`);
  });

  it("up creates the resources over SSH", async () => {
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect(res.summary.resourceChanges).toEqual({ create: 4 });
    expect(readFileSync(join(dir, "greeting.txt"), "utf8")).toBe("hello from pulumi\n");
    const generated = res.outputs.generated!;
    expect(generated.secret).toBe(true);
    expect(generated.value).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(readFileSync(join(dir, "secret.txt"), "utf8")).toBe(generated.value);
    expect(statSync(join(dir, "secret.txt")).mode & 0o777).toBe(0o600);
  }, 300_000);

  it("never writes the generated secret in plain text to state or output", async () => {
    const outputs = await t.stack.outputs();
    const secret = outputs.generated!.value as string;
    expect(stateText(t.backendDir)).not.toContain(secret);
    expect(output).not.toContain(secret);
    // ...nor the SSH private key.
    const keyLine = (await t.stack.getConfig("connection")).value;
    const keyBody = JSON.parse(keyLine).privateKey.split("\n")[1];
    expect(stateText(t.backendDir)).not.toContain(keyBody);
  });

  it("preview after up expects no changes", async () => {
    const res = await t.stack.preview({ onOutput: log });
    expect(res.changeSummary).toEqual({ same: 4 });
  }, 300_000);

  it("destroy removes what up made", async () => {
    const res = await t.stack.destroy({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect(existsSync(join(dir, "greeting.txt"))).toBe(false);
    expect(existsSync(join(dir, "secret.txt"))).toBe(false);
  }, 300_000);
});
