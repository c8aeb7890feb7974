import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pickCommit, resolveCommit } from "../../lib/gitRemote.ts";
import { cmd, heredoc, quote, script } from "../../lib/shell.ts";
import { redact } from "../../providers/ssh.ts";

/** What bash makes of `printf %s <word>`: the word's value, byte for byte. */
function bashValue(word: string): string {
  return execFileSync("bash", ["-c", `printf %s ${word}`], { encoding: "utf8" });
}

describe("quote", () => {
  const cases: Array<[string, string | number, string]> = [
    ["empty string", "", "''"],
    ["plain word", "abc", "abc"],
    ["path", "/srv/shop/env", "/srv/shop/env"],
    ["every safe punctuation", "a_b@c%d+e=f:g,h.i/j-k", "a_b@c%d+e=f:g,h.i/j-k"],
    ["number", 600, "600"],
    ["zero", 0, "0"],
    ["option-looking word", "-n", "-n"],
    ["spaces", "hello world", "'hello world'"],
    ["single quote", "it's", "'it'\\''s'"],
    ["only a single quote", "'", "''\\'''"],
    ["command substitution", "$(rm -rf /)", "'$(rm -rf /)'"],
    ["backticks", "`id`", "'`id`'"],
    ["variable", "$HOME", "'$HOME'"],
    ["newline", "a\nb", "'a\nb'"],
    ["tab", "a\tb", "'a\tb'"],
    ["glob", "*", "'*'"],
    ["tilde", "~root", "'~root'"],
    ["semicolon", "a;b", "'a;b'"],
    ["double quotes and backslash", "say \"hi\" \\n", "'say \"hi\" \\n'"],
    ["history bang", "wow!", "'wow!'"],
    ["unicode", "café ☃", "'café ☃'"],
    ["trailing newline", "line\n", "'line\n'"],
  ];
  for (const [name, value, expected] of cases) {
    it(`quotes ${name}`, () => {
      expect(quote(value)).toBe(expected);
    });
    it(`round-trips ${name} through bash exactly`, () => {
      expect(bashValue(quote(value))).toBe(String(value));
    });
  }

  it("a quoted value stays one word", () => {
    const out = execFileSync("bash", ["-c", `printf '<%s>' ${quote("a b  c")} ${quote("")} ${quote("d")}`], { encoding: "utf8" });
    expect(out).toBe("<a b  c><><d>");
  });
});

describe("cmd, script, heredoc", () => {
  it("cmd quotes each word and joins with spaces", () => {
    expect(cmd("install", "-m", "0600", "/a b", "it's")).toBe("install -m 0600 '/a b' 'it'\\''s'");
    expect(cmd()).toBe("");
  });

  it("script drops false, undefined and empty lines and ends with a newline", () => {
    expect(script("a", false, undefined, "", "b")).toBe("a\nb\n");
    expect(script()).toBe("\n");
  });

  const heredocs: Array<[string, string, string]> = [
    ["content without newline", "x", "<<'FLEET_EOF'\nx\nFLEET_EOF"],
    ["content with newline", "x\n", "<<'FLEET_EOF'\nx\nFLEET_EOF"],
    ["content holding the marker", "FLEET_EOF\n", "<<'FLEET_EOF_'\nFLEET_EOF\nFLEET_EOF_"],
    ["content holding two markers", "FLEET_EOF FLEET_EOF_", "<<'FLEET_EOF__'\nFLEET_EOF FLEET_EOF_\nFLEET_EOF__"],
  ];
  for (const [name, content, expected] of heredocs) {
    it(`heredoc: ${name}`, () => expect(heredoc(content)).toBe(expected));
  }

  it("a heredoc delivers its content verbatim to bash (plus the final newline)", () => {
    const content = "$HOME `id` $(whoami) 'q' \"d\" \\\nFLEET_EOF\n\ttabbed";
    const out = execFileSync("bash", ["-euo", "pipefail", "-s"], { input: script(`cat ${heredoc(content)}`), encoding: "utf8" });
    expect(out).toBe(content + "\n");
  });
});

describe("pickCommit", () => {
  const A = "a".repeat(40);
  const B = "b".repeat(40);
  const C = "c".repeat(40);
  const D = "d".repeat(40);
  const E = "e".repeat(40);
  const lsRemote = [
    `${A}\tHEAD`,
    `${A}\trefs/heads/main`,
    `${E}\trefs/heads/feature/x`,
    `${B}\trefs/tags/v1.0`,
    `${C}\trefs/tags/v1.0^{}`,
    `${D}\trefs/tags/light`,
    `${E}\trefs/heads/both`,
    `${D}\trefs/tags/both`,
  ].join("\n") + "\n";
  const cases: Array<[string, string, string | undefined]> = [
    ["a branch", "main", A],
    ["a branch with a slash", "feature/x", E],
    ["a lightweight tag", "light", D],
    ["an annotated tag: the peeled commit, not the tag object", "v1.0", C],
    ["a tag wins over a branch of the same name", "both", D],
    ["a full ref name", "refs/heads/main", A],
    ["HEAD", "HEAD", A],
    ["a full sha passes through, even if not listed", "0123456789abcdef0123456789abcdef01234567", "0123456789abcdef0123456789abcdef01234567"],
    ["an unknown ref", "nope", undefined],
    ["a short sha is not resolved", "aaaaaaa", undefined],
    ["an upper-case sha is not passed through", "A".repeat(40), undefined],
  ];
  for (const [name, ref, expected] of cases) {
    it(name, () => expect(pickCommit(lsRemote, ref)).toBe(expected));
  }

  it("empty ls-remote output resolves nothing", () => {
    expect(pickCommit("", "main")).toBeUndefined();
    expect(pickCommit("\n", "main")).toBeUndefined();
  });
});

describe("resolveCommit against a real git repository", () => {
  let dir: string;
  let head: string;
  let tagged: string;
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], {
    encoding: "utf8",
    env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" },
  }).trim();

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "fleet-git-"));
    git("init", "-q", "-b", "main");
    git("commit", "-q", "--allow-empty", "-m", "one");
    tagged = git("rev-parse", "HEAD");
    git("tag", "-a", "-m", "release", "v1");
    git("commit", "-q", "--allow-empty", "-m", "two");
    head = git("rev-parse", "HEAD");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("resolves a branch to its commit", () => {
    expect(resolveCommit(dir, "main")).toBe(head);
  });

  it("resolves an annotated tag to the commit it points at", () => {
    expect(resolveCommit(dir, "v1")).toBe(tagged);
    expect(git("rev-parse", "v1")).not.toBe(tagged); // the tag object itself differs
  });

  it("refuses an unknown ref with the config key and the fix", () => {
    expect(() => resolveCommit(dir, "nope")).toThrow(
      `app.ref: "nope" is not a branch, tag or commit in ${dir}. Fix: \`npm run pulumi -- config set --path 'app.ref' <branch-or-tag>\``);
  });

  it("names the app's own key in a several-app stack, so the fix sets that app's ref", () => {
    expect(() => resolveCommit(dir, "nope", "apps[1]")).toThrow(
      `apps[1].ref: "nope" is not a branch, tag or commit in ${dir}. Fix: \`npm run pulumi -- config set --path 'apps[1].ref' <branch-or-tag>\``);
    expect(() => resolveCommit(join(dir, "missing"), "main", "apps[1]")).toThrow(/\n  - apps\[1\]\.repo: cannot read /);
  });

  it("refuses an unreadable repository", () => {
    expect(() => resolveCommit(join(dir, "missing"), "main")).toThrow(/\n  - app\.repo: cannot read .*missing \(.*\)\. Fix: check the URL and that this machine can reach it$/);
  });
});

describe("redact: secrets never reach an error message", () => {
  it("fails when a secret quoted by psql survives", () => {
    const stderr = "ERROR:  syntax error\nLINE 1: ALTER ROLE \"shop\" WITH LOGIN PASSWORD 'Xy7pQ2rT9vLm' foo;";
    expect(redact(stderr, ["Xy7pQ2rT9vLm"])).toBe("ERROR:  syntax error\nLINE 1: ALTER ROLE \"shop\" WITH LOGIN PASSWORD '[secret]' foo;");
  });
  it("replaces every occurrence of every secret", () => {
    expect(redact("a1b2 x a1b2 y c3d4", ["a1b2", "c3d4"])).toBe("[secret] x [secret] y [secret]");
  });
  it("leaves text alone without secrets, and ignores empty or tiny values", () => {
    expect(redact("nothing here", [])).toBe("nothing here");
    expect(redact("a b c", ["", "a"])).toBe("a b c");
  });
});
