/**
 * A one-commit git repository holding only a requirements.txt: the smallest project the
 * preflight reads (ref resolved, pip chosen), for tests that run index.ts under mocks.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

/** Makes the repository at `path` (branch main) and returns its commit. */
export function requirementsRepo(path: string, requirements = "Django==5.2.19\n"): string {
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
  execFileSync("git", ["init", "-q", "-b", "main", path]);
  writeFileSync(join(path, "requirements.txt"), requirements);
  execFileSync("git", ["-C", path, "add", "requirements.txt"], { env });
  execFileSync("git", ["-C", path, "commit", "-q", "-m", "first"], { env });
  return execFileSync("git", ["-C", path, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
}
