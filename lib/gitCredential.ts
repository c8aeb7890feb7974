/**
 * How git gets an app's repository token (`app.repoToken`) without it ever being in a
 * command line, the state in plain, or a preview. Pure builders.
 *
 * git asks a credential helper for it. On hosts the helper is `cat` of a 0600 file the
 * app's user owns in root's /etc/<app> (written by a secret RemoteFile); on the machine
 * running Pulumi the helper prints two variables of git's own environment. Either way the
 * helper's text, which is in argv or in git's config environment, holds only a path or
 * variable names.
 */
import { cmd } from "./shell.ts";

/** The token and the user name sent with it. */
export interface RepoCredential {
  readonly user: string;
  readonly token: string;
}

/** The file on a host that holds an app's repository credential (0600, the app's user). */
export function credentialFile(app: string): string {
  return `/etc/${app}/git-credential`;
}

/**
 * The file's content: the answer a credential helper gives to `get` (git-credential(7)).
 * Throws on a value that would break the line format (the config refuses them first).
 */
export function renderCredentialFile(c: RepoCredential): string {
  for (const [what, v] of [["user", c.user], ["token", c.token]] as const) {
    if (v === "" || /[\s\0]/.test(v)) throw new Error(`repository ${what}: empty, or holds a space, line break or NUL`);
  }
  return `username=${c.user}\npassword=${c.token}\n`;
}

/** Variables of git's environment the helper on this machine reads. */
export const USER_VAR = "DJANGO_FLEET_GIT_USER";
export const TOKEN_VAR = "DJANGO_FLEET_GIT_TOKEN";

/**
 * A helper (git's `!` form, run by sh) that answers `get` with `answer` and ignores
 * `store` and `erase`, so git never writes the token anywhere. It reads git's request
 * first, so git never writes into a closed pipe.
 */
function helper(answer: string): string {
  return `!f() { cat >/dev/null; if [ "$1" = get ]; then ${answer}; fi; }; f`;
}

/**
 * `git -c ...` options for a host's fetch (as the app user): no helper configured
 * elsewhere (a system-wide `store` would write the token to disk), then ours, which
 * prints `file` ({@link credentialFile}).
 */
export function hostGitOptions(file: string): string[] {
  return ["-c", "credential.helper=", "-c", `credential.helper=${helper(`cat ${cmd(file)}`)}`];
}

/**
 * The environment git on this machine runs with: the credential, in variables, and
 * config (GIT_CONFIG_COUNT/KEY/VALUE, git >= 2.31) naming the helper that prints them.
 * Nothing of it is in argv. Without a credential: only no prompt.
 */
export function localGitEnv(c: RepoCredential | undefined): Record<string, string> {
  if (!c) return { GIT_TERMINAL_PROMPT: "0" };
  return {
    GIT_TERMINAL_PROMPT: "0",
    [USER_VAR]: c.user,
    [TOKEN_VAR]: c.token,
    GIT_CONFIG_COUNT: "2",
    GIT_CONFIG_KEY_0: "credential.helper",
    GIT_CONFIG_VALUE_0: "",
    GIT_CONFIG_KEY_1: "credential.helper",
    GIT_CONFIG_VALUE_1: helper(`printf 'username=%s\\npassword=%s\\n' "$${USER_VAR}" "$${TOKEN_VAR}"`),
  };
}
