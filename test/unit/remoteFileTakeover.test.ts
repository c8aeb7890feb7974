import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deleteScript, originalPath, plan, type FileState } from "../../providers/remoteFile.ops.ts";
import { wrapBody } from "../../providers/ssh.ts";

/** Runs a generated script locally the way ssh.ts runs it remotely. */
const bash = (body: string) => execFileSync("bash", ["-euo", "pipefail", "-s"], { input: wrapBody(body) });

describe("RemoteFile takes over a package's file and gives it back", () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "fleet-takeover-")); });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(originalPath(dir), { recursive: true, force: true });
  });
  const me = execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
  const group = execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();
  const desired = (path: string, content: string): FileState => ({
    connection: { host: "h", hostKey: "k", privateKey: "p" }, path, content, mode: "0644", owner: me, group,
  });
  const observed = (content: string) => ({ content, mode: "0644", owner: me, group });

  it("fails when the original is not restored on delete, or a backup lands beside the file", () => {
    const p = join(dir, "pg_hba.conf");
    writeFileSync(p, "package default\n");
    bash(plan(desired(p, "ours v1\n"), observed("package default\n"), true)); // create
    bash(plan(desired(p, "ours v2\n"), observed("ours v1\n"), false)); // update
    expect(readFileSync(p, "utf8")).toBe("ours v2\n");
    // The backup is the package's file, not our first version, and not in the file's folder
    // (nginx's sites-enabled, for one, loads every file there).
    expect(readFileSync(originalPath(p), "utf8")).toBe("package default\n");
    expect(readdirSync(dir)).toEqual(["pg_hba.conf"]);
    bash(deleteScript(p));
    expect(readFileSync(p, "utf8")).toBe("package default\n");
    expect(existsSync(originalPath(p))).toBe(false);
  });

  it("fails when a file of our own is left behind on delete", () => {
    const p = join(dir, "ours.conf");
    bash(plan(desired(p, "x\n"), undefined, true));
    bash(deleteScript(p));
    expect(existsSync(p)).toBe(false);
  });
});
