/**
 * The static copy's scripts (lib/staticCopy.ts), RUN with bash on this machine: a
 * STATIC_ROOT packed (with a stand-in `runuser` that runs its command as is), unpacked into
 * a temporary base in place of /var/lib/django-fleet/static, then checked by digest.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { digestScript, lbStaticPaths, leftoversCheck, leftoversScript, packScript, parseDigest, unpackScript } from "../../lib/staticCopy.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), "fleet-static-"));
  DIRS.push(d);
  return d;
}

/** A PATH whose `runuser -u <user> -- cmd...` runs `cmd...` (the user switch is the host's business). */
function standIns(): string {
  const bin = tmp();
  writeFileSync(join(bin, "runuser"), '#!/bin/bash\nwhile [ "$1" != -- ]; do shift; done; shift; exec "$@"\n');
  chmodSync(join(bin, "runuser"), 0o755);
  return `${bin}:${process.env.PATH}`;
}

function bash(body: string, path = process.env.PATH!): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: body, encoding: "utf8", env: { PATH: path } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const R1 = "aaaaaaaaaaa1";
const R2 = "aaaaaaaaaaa2";
const R3 = "aaaaaaaaaaa3";

/** A STATIC_ROOT: a file, a nested file, a link to a file elsewhere, a fifo. */
function staticRoot(marker: string): string {
  const d = tmp();
  const outside = join(tmp(), "outside.css");
  writeFileSync(outside, "linked bytes\n");
  mkdirSync(join(d, "admin/css"), { recursive: true });
  writeFileSync(join(d, "app.js"), `console.log("${marker}");\n`);
  writeFileSync(join(d, "admin/css/base.css"), "body{}\n");
  chmodSync(join(d, "admin/css/base.css"), 0o600);
  symlinkSync(outside, join(d, "linked.css"));
  spawnSync("mkfifo", [join(d, "pipe")]);
  return d;
}

function copy(root: string | null, release: string, base: string, path: string) {
  const packed = bash(packScript("shop", root), path);
  expect(packed.code, packed.stderr).toBe(0);
  const written = bash(unpackScript("shop", release, packed.stdout.trim(), base));
  expect(written.code, written.stderr).toBe(0);
  return parseDigest(written.stdout);
}

describe("static copy: packed as the app, unpacked by root into root's folder", () => {
  it("copies plain files and folders, links as the files they point to, no fifo; root's and world-readable", () => {
    const base = join(tmp(), "static");
    const p = lbStaticPaths("shop", base);
    const digest = copy(staticRoot("one"), R1, base, standIns());
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(readlinkSync(p.current)).toBe(R1);
    const dir = p.release(R1);
    expect(readFileSync(join(dir, "app.js"), "utf8")).toContain('"one"');
    expect(readFileSync(join(dir, "linked.css"), "utf8")).toBe("linked bytes\n");
    expect(lstatSync(join(dir, "linked.css")).isFile()).toBe(true);
    expect(existsSync(join(dir, "pipe"))).toBe(false);
    const css = lstatSync(join(dir, "admin/css/base.css"));
    expect([css.uid, css.mode & 0o777]).toEqual([0, 0o644]);
    expect([lstatSync(join(dir, "admin")).mode & 0o777, lstatSync(dir).mode & 0o777]).toEqual([0o755, 0o755]);
    expect(existsSync(p.incoming)).toBe(false);
  });

  it("a new release moves `current`, keeps the copy served until now, and removes older ones", () => {
    const base = join(tmp(), "static");
    const p = lbStaticPaths("shop", base);
    const path = standIns();
    const cases: Array<[string, string[]]> = [
      [R1, [R1, "current"]],
      [R2, [R1, R2, "current"]],
      [R3, [R2, R3, "current"]],
      // The same release again (an env change): copied afresh, the previous one kept.
      [R3, [R3, "current"]],
    ];
    for (const [release, left] of cases) {
      copy(staticRoot(release), release, base, path);
      expect(readlinkSync(p.current)).toBe(release);
      expect(readdirSync(p.root).sort()).toEqual(left);
    }
  });

  it("the check's digest is the copy's, and differs once a file is edited, added or the copy is gone", () => {
    const base = join(tmp(), "static");
    const p = lbStaticPaths("shop", base);
    const digest = copy(staticRoot("x"), R1, base, standIns());
    const check = () => parseDigest(bash(digestScript("shop", R1, base)).stdout);
    expect(check()).toBe(digest);
    const edits: Array<[string, () => void]> = [
      ["a file edited", () => writeFileSync(join(p.release(R1), "app.js"), "tampered\n")],
      ["a file added", () => writeFileSync(join(p.release(R1), "extra.js"), "")],
      ["a mode changed", () => chmodSync(join(p.release(R1), "app.js"), 0o666)],
      ["current moved", () => { rmSync(p.current); symlinkSync(R2, p.current); }],
      ["the copy gone", () => rmSync(p.root, { recursive: true })],
    ];
    for (const [what, edit] of edits) {
      copy(staticRoot("x"), R1, base, standIns());
      expect(check(), what).toBeDefined();
      edit();
      expect(check(), what).not.toBe(digest);
    }
  });

  it("an app without collected static files gets an empty copy", () => {
    const base = join(tmp(), "static");
    expect(copy(null, R1, base, standIns())).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(lbStaticPaths("shop", base).release(R1))).toEqual([]);
  });

  it.each([
    ["a release that is not a commit prefix", () => unpackScript("shop", "../etc", "")],
    ["a release with upper case", () => digestScript("shop", "AAAAAAAAAAA1")],
    ["an archive that is not base64", () => unpackScript("shop", R1, "abc\nFLEET_EOF\nrm -rf /")],
  ])("refuses %s", (_what, f) => {
    expect(f).toThrow(/static copy/);
  });

  it.each([
    ["the digest line", `noise\nFLEET_DIGEST=${"a".repeat(64)}\n`, "a".repeat(64)],
    ["the last of two", `FLEET_DIGEST=${"a".repeat(64)}\nFLEET_DIGEST=${"b".repeat(64)}\n`, "b".repeat(64)],
    ["nothing", "", undefined],
    ["a short value", "FLEET_DIGEST=abc\n", undefined],
  ])("parseDigest: %s", (_what, out, want) => {
    expect(parseDigest(out)).toBe(want);
  });
});

describe("the app's leftovers on a load balancer that no longer runs its code", () => {
  it.each([
    ["only an account whose home is the app's folder is removed", "[ \"$(getent passwd shop | cut -d: -f6)\" = /srv/shop ]"],
    ["its units are stopped and removed", "systemctl disable --now -- \"$u\""],
    ["its processes end before its user", "pkill -KILL -u shop || true\n  rm -rf --one-file-system -- /srv/shop /etc/shop /var/lib/shop\n  userdel -- shop"],
  ])("%s", (_what, line) => {
    expect(leftoversScript("shop")).toContain(line);
  });

  it("the check passes only without env file and tree", () => {
    const body = leftoversCheck("shop");
    expect(body).toContain("! [ -e /etc/shop/env ]");
    expect(body).toContain("! [ -e /srv/shop ]");
  });
});
