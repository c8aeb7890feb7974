/**
 * Resolves the configured git ref to a commit on the machine running Pulumi, so that a
 * branch that moved shows in the preview as a new release (and only then re-deploys).
 */
import { execFileSync } from "node:child_process";
import { ConfigError } from "../config/load.ts";
import { localGitEnv, type RepoCredential } from "./gitCredential.ts";

/** Parses `git ls-remote` output: the commit for `ref`, preferring a peeled tag. Pure. */
export function pickCommit(lsRemote: string, ref: string): string | undefined {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  const rows = lsRemote.trim().split("\n").filter(Boolean).map((l) => l.split("\t") as [string, string]);
  const want = [`refs/tags/${ref}^{}`, `refs/tags/${ref}`, `refs/heads/${ref}`, ref];
  for (const w of want) {
    const hit = rows.find(([, name]) => name === w);
    if (hit) return hit[0];
  }
  return undefined;
}

/**
 * The error for an HTTP server that turned git away for its credentials, naming the key
 * to fix: the token it refused, or the token it asks for. Undefined for any other
 * failure. `gitError`: git's message (stderr). Pure.
 */
export function unreadable(repo: string, key: string, credential: RepoCredential | undefined, gitError: string): string | undefined {
  const refused = /Authentication failed for|could not read (?:Username|Password) for|The requested URL returned error: 40[13]/.test(gitError);
  if (!refused) return undefined;
  const set = `\`npm run pulumi -- config set --secret --path '${key}.repoToken' <token>\``;
  return credential
    ? `${key}.repoToken: ${repo} refused the token (sent as user "${credential.user}"). Fix: ${set} with a token that may read the repository (and \`config set --path '${key}.repoUser' <user>\` if the server wants another user name)`
    : `${key}.repo: ${repo} asks for credentials. Fix: give its token as secret config, ${set}`;
}

/**
 * `key`: the app's own config key (`app`, or `apps[i]` in a several-app stack), named in
 * errors. `credential`: the app's repoToken, given to git in its environment (never argv).
 */
export function resolveCommit(repo: string, ref: string, key = "app", credential?: RepoCredential): string {
  if (/^[0-9a-f]{40}$/.test(ref)) return ref;
  let out: string;
  try {
    out = execFileSync("git", ["ls-remote", "--", repo, ref, `${ref}^{}`], {
      encoding: "utf8", timeout: 30_000, stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...localGitEnv(credential) },
    });
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    const why = text.split("\n").slice(0, 3).join(" ");
    throw new ConfigError([unreadable(repo, key, credential, text) ?? `${key}.repo: cannot read ${repo} (${why}). Fix: check the URL and that this machine can reach it`]);
  }
  const commit = pickCommit(out, ref);
  if (!commit) throw new ConfigError([`${key}.ref: "${ref}" is not a branch, tag or commit in ${repo}. Fix: \`npm run pulumi -- config set --path '${key}.ref' <branch-or-tag>\``]);
  return commit;
}
