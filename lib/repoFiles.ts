/**
 * Reads files of the app's repository at the deployed commit on the machine running
 * Pulumi, so the install method and the project's Python requirement are known (and a
 * mismatch refused) before anything changes on a server. The commit is fetched once into
 * a bare cache repository and read from there afterwards (no network when cached).
 * Every user value reaches git after `--`, so a repository URL can never be read as an
 * option.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { ConfigError } from "../config/load.ts";
import type { RepoSnapshot } from "../config/pythonProject.ts";
import { localGitEnv, type RepoCredential } from "./gitCredential.ts";

/** `credential`: the app's repoToken, in git's environment (lib/gitCredential.ts), never argv. */
function git(dir: string, args: string[], timeout = 120_000, credential?: RepoCredential): string {
  return execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8", timeout, stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...localGitEnv(credential) },
  });
}

function hasCommit(dir: string, commit: string): boolean {
  try {
    git(dir, ["cat-file", "-e", `${commit}^{commit}`]);
    return true;
  } catch {
    return false;
  }
}

/** The cache repository for one remote URL. */
function cacheDir(repo: string): string {
  const root = process.env.DJANGO_FLEET_CACHE ?? join(homedir(), ".cache", "django-fleet");
  const dir = join(root, "repos", `${createHash("sha256").update(repo).digest("hex").slice(0, 16)}.git`);
  if (!existsSync(join(dir, "HEAD"))) {
    mkdirSync(dir, { recursive: true });
    execFileSync("git", ["init", "--quiet", "--bare", dir], { stdio: "ignore" });
  }
  return dir;
}

/** Makes sure `commit` is in the cache: by its id (most servers allow it), else all branches and tags. */
function fetchCommit(dir: string, repo: string, commit: string, credential?: RepoCredential): void {
  if (hasCommit(dir, commit)) return;
  try {
    git(dir, ["fetch", "--quiet", "--no-tags", "--depth=1", "--", repo, commit], 120_000, credential);
  } catch {
    try {
      git(dir, ["fetch", "--quiet", "--force", "--", repo, "+refs/heads/*:refs/fleet/heads/*", "+refs/tags/*:refs/fleet/tags/*"], 120_000, credential);
    } catch (e) {
      const why = e instanceof Error ? e.message.split("\n").filter((l) => l && !l.startsWith("Command failed")).slice(0, 2).join(" ") : String(e);
      throw new ConfigError([`app.repo: cannot fetch ${repo} (${why}). Fix: check app.repo, and that this machine can reach the repository`]);
    }
  }
  if (!hasCommit(dir, commit)) {
    throw new ConfigError([`app.ref: commit ${commit} is not in any branch or tag of ${repo}. Fix: push it, or \`npm run pulumi -- config set --path app.ref <branch, tag or commit>\``]);
  }
}

/** The root file names and the contents of `paths` (those that exist) at `commit`. */
export function readRepoFiles(repo: string, commit: string, paths: readonly string[], credential?: RepoCredential): RepoSnapshot {
  const dir = cacheDir(repo);
  fetchCommit(dir, repo, commit, credential);
  const rootFiles = new Set(git(dir, ["ls-tree", "--name-only", commit]).split("\n").filter(Boolean));
  const contents = new Map<string, string>();
  for (const p of paths) {
    // Paths come from our own list plus app.requirementsFile; `commit:path` is one argument.
    try {
      contents.set(p, git(dir, ["show", `${commit}:${p.replace(/^\.\//, "")}`]));
    } catch {
      // Not in the repository: detection decides whether that matters.
    }
  }
  return { rootFiles, contents };
}
