/**
 * The uploads repository's own key (issue 21; services/restic/mediaKey.ts): the scripts are
 * RUN with bash against real restic repositories in a temporary folder, as the RemoteScript
 * sends them (secrets first, on stdin). restic runs through a wrapper that records its
 * arguments, so the test sees that no key is ever one.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mediaKeyCheck, mediaKeyScript, OLD_KEY_VAR } from "../../services/restic/mediaKey.ts";
import { withSecrets } from "../../providers/remoteScript.ops.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });

const MEDIA = "media-key-'$HOME\"x";
const OLD = "database-key-%s\\y";
const OPERATOR = "an-operator's-own-key";
const RESTIC = spawnSync("bash", ["-c", "command -v restic"], { encoding: "utf8" }).stdout.trim();

interface Box {
  /** Runs a script as the step would, with the old key as its secret. */
  run(body: string): { code: number; out: string };
  /** restic with a password, in the repository. */
  restic(password: string, ...args: string[]): { code: number; out: string };
  /** Every restic argv the scripts made. */
  argv(): string;
}

/** A repository folder (made with `keys`, the first initialising it; none: no repository) and its env file. */
function box(keys: string[]): Box {
  const dir = mkdtempSync(join(tmpdir(), "fleet-media-key-"));
  DIRS.push(dir);
  const repo = join(dir, "repo");
  const env = join(dir, "restic.env");
  const esc = (v: string) => `"${v.replace(/["\\`$]/g, (c) => `\\${c}`)}"`;
  writeFileSync(env, `RESTIC_REPOSITORY=${esc(repo)}\nRESTIC_PASSWORD=${esc(MEDIA)}\n`, { mode: 0o600 });
  writeFileSync(join(dir, "restic"), `#!/bin/bash\nprintf '%s\\n' "$*" >> ${dir}/argv\nexec ${RESTIC} "$@"\n`);
  chmodSync(join(dir, "restic"), 0o755);
  writeFileSync(join(dir, "argv"), "");
  const restic = (password: string, ...args: string[]) => {
    const r = spawnSync(RESTIC, ["-q", ...args], { encoding: "utf8", env: { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: password } });
    return { code: r.status ?? -1, out: r.stdout + r.stderr };
  };
  keys.forEach((k, i) => {
    if (i === 0) {
      expect(restic(k, "init").code).toBe(0);
      writeFileSync(join(dir, "upload.txt"), "an upload");
      expect(restic(k, "backup", "--host", "django-fleet-media", "--tag", "django-fleet-media", join(dir, "upload.txt")).code).toBe(0);
    } else {
      writeFileSync(join(dir, "pw"), k);
      expect(restic(keys[0]!, "key", "add", "--new-password-file", join(dir, "pw")).code).toBe(0);
    }
  });
  return {
    run(body) {
      const r = spawnSync("/bin/bash", ["-euo", "pipefail", "-s"], {
        input: withSecrets(body.replaceAll(envPlaceholder, env), { [OLD_KEY_VAR]: OLD }), encoding: "utf8",
        env: { PATH: `${dir}:/usr/bin:/bin`, HOME: dir },
      });
      return { code: r.status ?? -1, out: r.stdout + r.stderr };
    },
    restic,
    argv: () => readFileSync(join(dir, "argv"), "utf8"),
  };
}

/** The scripts are built for a fixed path; each box swaps in its own env file. */
const envPlaceholder = "/etc/django-fleet/restic-media.env";
const create = mediaKeyScript(envPlaceholder, false);
const check = mediaKeyCheck(envPlaceholder, false);

const opens = (b: Box, password: string) => b.restic(password, "cat", "config").code === 0;
const snapshots = (b: Box, password: string) => (JSON.parse(b.restic(password, "snapshots", "--json").out) as unknown[]).length;

describe("media backup key: check and re-key, against real restic repositories", () => {
  // Each restic open derives its key (scrypt, about half a second): a short table, long timeouts.
  // A repository keyed with the media key alone is each case's second run.
  // [case, keys of the repository before, check before, create's exit, keys that open it after]
  const cases: Array<[string, string[], number, number, string[]]> = [
    ["no repository yet", [], 0, 0, []],
    ["keyed with the database key (made before keys were separate)", [OLD], 1, 0, [MEDIA]],
    ["keyed with the database key and an operator's key", [OLD, OPERATOR], 1, 0, [MEDIA, OPERATOR]],
    ["keyed with both (a run cut off after the add)", [OLD, MEDIA], 1, 0, [MEDIA]],
  ];
  for (const [name, keys, checkBefore, code, after] of cases) {
    it(`${name}: check ${checkBefore}, re-key ${code}, then opened by ${after.length ? after.map((k) => (k === MEDIA ? "media" : k === OLD ? "database" : "operator")).join(" and ") : "nothing"}`, () => {
      const b = box(keys);
      expect(b.run(check).code).toBe(checkBefore);
      const r = b.run(create);
      expect(r.code, r.out).toBe(code);
      for (const k of [MEDIA, OLD, OPERATOR]) expect(opens(b, k), k).toBe(after.includes(k));
      if (after.length) expect(snapshots(b, MEDIA)).toBe(1);
      expect(b.run(check).code).toBe(0);
      // Again: nothing left to do, and nothing done.
      const argvBefore = b.argv();
      expect(b.run(create).code).toBe(0);
      expect(b.argv().slice(argvBefore.length)).not.toMatch(/key (add|remove)/);
      for (const secret of [MEDIA, OLD, OPERATOR]) {
        expect(b.argv()).not.toContain(secret);
        expect(r.out).not.toContain(secret);
      }
    }, 120_000);
  }

  it("a repository neither key opens: check fails, and re-keying fails naming the repository, showing no key", () => {
    const b = box([OPERATOR]);
    expect(b.run(check).code).toBe(1);
    const r = b.run(create);
    expect(r.code).toBe(1);
    expect(r.out).toContain("opens with neither the media backup key nor the database backup key");
    for (const secret of [MEDIA, OLD, OPERATOR]) expect(r.out).not.toContain(secret);
    expect(opens(b, OPERATOR)).toBe(true);
  }, 60_000);
});
