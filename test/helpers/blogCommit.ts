/**
 * A further commit of examples/blog (published by scripts/publish-example as branch
 * `main` of GIT_ROOT/blog.git), or of another published example, for tests that deploy
 * a new release. Deterministic like publish-example (fixed author and date), so a re-run
 * pushes nothing new.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function git(cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync("git", args, { cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/**
 * Commits a one-line change of the blog's README on top of `main` of
 * `${gitRoot}/blog.git`, pushes it to `branch` (forced) and returns the commit id. The
 * code and requirements are unchanged: a new release to build, nothing to install.
 */
export function publishBlogCommit(gitRoot: string, branch: string, date = "2026-01-05T00:00:00Z"): string {
  return publishReadmeCommit(gitRoot, "blog", branch, date);
}

/** The same for any published example: `${gitRoot}/${repo}.git` (fleetuv, say). */
export function publishReadmeCommit(gitRoot: string, repo: string, branch: string, date: string): string {
  const bare = join(gitRoot, `${repo}.git`);
  const work = mkdtempSync(join(tmpdir(), `fleet-${repo}-`));
  try {
    git(work, ["clone", "-q", "--branch", "main", "--single-branch", bare, "."]);
    appendFileSync(join(work, "README.md"), `\nRelease ${branch}.\n`);
    const env = {
      ...process.env,
      GIT_AUTHOR_NAME: "django-fleet", GIT_AUTHOR_EMAIL: "fleet@localhost",
      GIT_COMMITTER_NAME: "django-fleet", GIT_COMMITTER_EMAIL: "fleet@localhost",
      GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date,
    };
    git(work, ["add", "-A"]);
    git(work, ["-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", `${repo}: release ${branch}`], env);
    git(work, ["push", "-q", "--force", bare, `HEAD:refs/heads/${branch}`]);
    return git(bare, ["rev-parse", `refs/heads/${branch}`]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
