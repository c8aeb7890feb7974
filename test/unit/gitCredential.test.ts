/**
 * A private repository's token (app.repoToken): refused in plain text, and given to git
 * through a credential helper, never in argv.
 */
import { describe, expect, it } from "vitest";
import { plainRepoTokenProblems, repoCredential, type TokenApp } from "../../config/repoToken.ts";
import { credentialFile, localGitEnv, renderCredentialFile, TOKEN_VAR } from "../../lib/gitCredential.ts";
import { buildScript } from "../../lib/releaseBuild.ts";

const TOKEN = "glpat-Secret_Token.123";
const USER = "deployer";

describe("repoToken refusals in plain text", () => {
  const app = (key: string, repoToken?: string): TokenApp => ({ key, repoToken, repoUser: "x-access-token" });
  const fix = (key: string) => `${key}.repoToken: is stored in plain text in the stack's config. Fix: \`npm run pulumi -- config set --secret --path '${key}.repoToken' <token>\``;
  const SECRET_FILE = "config:\n  django-fleet:app:\n    name: shop\n    repoToken:\n      secure: v1:abc\n";
  const PLAIN_FILE = "config:\n  django-fleet:app:\n    name: shop\n    repoToken: ghp_plain\n";
  const APPS_PLAIN = "config:\n  django-fleet:apps:\n    - name: a\n    - name: b\n      repoToken: ghp_plain\n";
  const cases: Array<[string, TokenApp[], (k: string) => boolean, string | undefined, string[]]> = [
    ["no token: nothing to say", [app("app")], () => false, undefined, []],
    ["a token in a key that is not secret", [app("app", TOKEN)], () => false, undefined, [fix("app")]],
    ["a token under a secret key, itself secret in the file", [app("app", TOKEN)], () => true, SECRET_FILE, []],
    ["a token under a secret key, no stack file to read", [app("app", TOKEN)], () => true, undefined, []],
    ["a plain token beside another secret value", [app("app", TOKEN)], () => true, PLAIN_FILE, [fix("app")]],
    ["apps[1]'s plain token names apps[1]", [app("apps[0]"), app("apps[1]", TOKEN)], () => true, APPS_PLAIN, [fix("apps[1]")]],
    ["apps: the whole list secret", [app("apps[0]", TOKEN)], (k) => k === "django-fleet:apps", "config:\n  django-fleet:apps:\n    secure: v1:abc\n", []],
    ["app's key secret does not make apps' secret", [app("apps[0]", TOKEN)], (k) => k === "django-fleet:app", undefined, [fix("apps[0]")]],
  ];
  it.each(cases)("%s", (_, apps, isSecret, file, want) => {
    expect(plainRepoTokenProblems(apps, isSecret, file)).toEqual(want);
  });

  it("repoCredential: the token and its user, or none", () => {
    expect(repoCredential(app("app"))).toBeUndefined();
    expect(repoCredential({ key: "app", repoToken: TOKEN, repoUser: USER })).toEqual({ user: USER, token: TOKEN });
  });
});

describe("how git gets the token", () => {
  it.each([
    ["a token", { user: USER, token: TOKEN }, `username=${USER}\npassword=${TOKEN}\n`],
    ["GitHub's any user", { user: "x-access-token", token: "ghp_abc" }, "username=x-access-token\npassword=ghp_abc\n"],
  ])("the credential file holds %s as a helper's answer", (_, c, want) => {
    expect(renderCredentialFile(c)).toBe(want);
  });

  it.each([["an empty token", { user: USER, token: "" }], ["a line break", { user: USER, token: "a\npassword=b" }], ["a space in the user", { user: "a b", token: "t" }]])(
    "the credential file refuses %s", (_, c) => {
      expect(() => renderCredentialFile(c)).toThrow(/empty, or holds a space, line break or NUL/);
    });

  it("on this machine: the token is in two variables, the helper config names them only", () => {
    const env = localGitEnv({ user: USER, token: TOKEN });
    expect(Object.entries(env).filter(([, v]) => v.includes(TOKEN)).map(([k]) => k)).toEqual([TOKEN_VAR]);
    expect(env).toMatchObject({ GIT_TERMINAL_PROMPT: "0", GIT_CONFIG_COUNT: "2", GIT_CONFIG_KEY_0: "credential.helper", GIT_CONFIG_VALUE_0: "" });
    expect(localGitEnv(undefined)).toEqual({ GIT_TERMINAL_PROMPT: "0" });
  });

  it("on hosts: the build script fetches through the app's credential file, and holds no token", () => {
    const base = { app: "shop", repo: "https://git.example/shop.git", commit: "a".repeat(40), project: { method: "pip", requirementsFile: "requirements.txt", reason: "r" } as never, install: { groups: [], extras: [] } };
    const withToken = buildScript({ ...base, repoToken: true });
    const fetches = withToken.split("\n").filter((l) => l.includes(" fetch "));
    expect(fetches).toHaveLength(2);
    for (const f of fetches) {
      expect(f).toContain("runuser -u shop -- env GIT_TERMINAL_PROMPT=0 git -c credential.helper= -c 'credential.helper=!f() {");
      expect(f).toContain(credentialFile("shop"));
    }
    expect(credentialFile("shop")).toBe("/etc/shop/git-credential");
    // Without a token the script is what it was (no change for existing stacks).
    const without = buildScript(base);
    expect(without).not.toContain("credential");
    expect(without).toContain("runuser -u shop -- git -C /srv/shop/repo.git fetch --quiet --tags --force -- https://git.example/shop.git");
  });
});
