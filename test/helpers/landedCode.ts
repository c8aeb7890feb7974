/**
 * The program as it landed before a change, for upgrade tests: an existing stack is
 * brought up by that code, then previewed and updated by today's. The old program is a
 * fixture (`git archive` of its files), not a git worktree, so the test runs from any
 * checkout, shallow or not.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalWorkspace, type Stack } from "@pulumi/pulumi/automation/index.js";
import { engineEnv, ROOT, type TestStack } from "./pulumi.ts";

/** The last landed commit before the house by service (issue 24) and the trust work (issues 20, 21, 25). */
export const LANDED = "a04b26b";

export interface LandedCode {
  /** Its project folder (Pulumi.yaml, index.ts, ...). */
  readonly dir: string;
  /** Removes the folder. */
  remove(): void;
}

/** Unpacks test/fixtures/landed-<commit>.tar.gz, sharing this checkout's node_modules and toolchain. */
export function landedCode(commit: string = LANDED): LandedCode {
  const parent = mkdtempSync(join(tmpdir(), `fleet-landed-${commit}-`));
  execFileSync("tar", ["-xzf", join(ROOT, `test/fixtures/landed-${commit}.tar.gz`), "-C", parent]);
  const dir = join(parent, "django-fleet");
  symlinkSync(realpathSync(join(ROOT, "node_modules")), join(dir, "node_modules"));
  symlinkSync(realpathSync(join(ROOT, ".toolchain")), join(dir, ".toolchain"));
  return { dir, remove: () => rmSync(parent, { recursive: true, force: true }) };
}

/**
 * The same stack (same backend, config file and passphrase) as `t`, run by the code in
 * `dir`. The config file is copied over as it is now, so set the config first.
 */
export async function sameStackIn(dir: string, t: TestStack, stackName: string): Promise<Stack> {
  copyFileSync(join(ROOT, `Pulumi.${stackName}.yaml`), join(dir, `Pulumi.${stackName}.yaml`));
  return LocalWorkspace.selectStack({ stackName, workDir: dir }, { envVars: engineEnv(t.backendDir) });
}
