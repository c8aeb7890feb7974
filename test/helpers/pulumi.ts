/**
 * Running the real Pulumi engine from tests through the Automation API, with the
 * project's toolchain (scripts/setup) and a throwaway local backend per test file.
 */
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");

/** Environment for the engine: our binaries first, no downloads, a private backend. */
export function engineEnv(backendDir: string): Record<string, string> {
  const bin = readFileSync(join(ROOT, ".toolchain/pulumi-bin"), "utf8").trim();
  const node = join(ROOT, ".toolchain/node/node_modules/.bin");
  return {
    PATH: [bin, node, process.env.PATH ?? ""].join(":"),
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_CONFIG_PASSPHRASE: "django-fleet-test",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
}

export interface TestStack {
  readonly stack: Stack;
  readonly backendDir: string;
  /** Removes the stack and its backend folder (after `destroy`). */
  cleanup(): Promise<void>;
}

/** `pathFirst`: a folder put first on the engine's PATH (a recording `ssh`, say). */
export async function testStack(workDir: string, stackName: string, pathFirst?: string): Promise<TestStack> {
  const backendDir = mkdtempSync(join(tmpdir(), "fleet-state-"));
  const envVars = engineEnv(backendDir);
  if (pathFirst) envVars.PATH = `${pathFirst}:${envVars.PATH}`;
  // The CLI the Automation API starts is found on PATH, so set it for this process too.
  process.env.PATH = envVars.PATH;
  const stack = await LocalWorkspace.createOrSelectStack({ stackName, workDir }, { envVars });
  return {
    stack,
    backendDir,
    async cleanup() {
      await stack.workspace.removeStack(stackName).catch(() => undefined);
      rmSync(join(workDir, `Pulumi.${stackName}.yaml`), { force: true });
      rmSync(backendDir, { recursive: true, force: true });
    },
  };
}

/** Every file under the backend folder as one string (to grep the state for secrets). */
export function stateText(backendDir: string): string {
  const walk = (d: string): string[] => readdirSync(d).flatMap((f) => {
    const p = join(d, f);
    return statSync(p).isDirectory() ? walk(p) : [readFileSync(p, "utf8")];
  });
  return walk(backendDir).join("\n");
}

/** `pulumi stack export` as a user runs it: secrets encrypted (the Automation API's exportStack decrypts them). */
export function stackExport(t: TestStack): string {
  return execFileSync(join(pulumiBin(), "pulumi"), ["stack", "export", "--stack", t.stack.name], {
    cwd: t.stack.workspace.workDir, env: { ...process.env, ...engineEnv(t.backendDir) }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, timeout: 60_000,
  });
}

function pulumiBin(): string {
  return readFileSync(join(ROOT, ".toolchain/pulumi-bin"), "utf8").trim();
}

/**
 * `pulumi config set --secret --path <key>` with the value on stdin, as README tells a
 * user to type it (the Automation API's setConfig puts the value on the CLI's command line).
 */
export function setSecretConfig(t: TestStack, key: string, value: string): void {
  execFileSync(join(pulumiBin(), "pulumi"), ["config", "set", "--secret", "--path", "--stack", t.stack.name, key], {
    cwd: t.stack.workspace.workDir, env: { ...process.env, ...engineEnv(t.backendDir) },
    input: value, stdio: ["pipe", "ignore", "pipe"], timeout: 60_000,
  });
}
