/**
 * RemoteScript's `read` and `state` (providers/remoteScript.ops.ts, issue 24): refresh
 * stores what the read printed; a state found other than the wanted one re-runs the step;
 * `read`/`state` appearing on an older step, or a new read script, are recorded without
 * running anything. ssh is a stand-in that records each script and answers from a table.
 */
import { beforeEach, describe, expect, it, vi } from "vitest";

const calls: string[] = [];
let answer: (body: string) => { stdout: string; stderr: string; code: number } = () => ({ stdout: "", stderr: "", code: 0 });
vi.mock("../../providers/ssh.ts", () => ({
  run: async (_c: unknown, body: string) => { calls.push(body); return answer(body); },
}));
const ops = await import("../../providers/remoteScript.ops.ts");
type S = import("../../providers/remoteScript.ops.ts").ScriptState;

const connection = { host: "h", hostKey: "k", privateKey: "p" };
const base: S = { connection, create: "make-it", check: "check-it", inSync: true, description: "thing", triggers: { v: "1" } };
const WANT = "user shop home=/srv/shop shell=/usr/sbin/nologin";
const FOUND = "user shop home=/srv/shop shell=/bin/bash";
const withRead: S = { ...base, read: "read-it", state: WANT };

beforeEach(() => { calls.length = 0; answer = () => ({ stdout: "", stderr: "", code: 0 }); });
/** The steps the stand-in ran, by what they end with (the step lock and secrets come first). */
const ran = () => calls.map((b) => ["make-it", "check-it", "read-it", "read-it-v2"].find((w) => b.includes(w)) ?? b);

describe("diff and update", () => {
  it.each<[string, S, S, boolean, string[]]>([
    ["nothing changed", withRead, withRead, false, []],
    ["a refresh found another state: the step runs again", { ...withRead, state: FOUND }, withRead, true, ["make-it"]],
    ["the same state, inSync false (check failed): runs, as before", { ...withRead, inSync: false }, withRead, true, ["make-it"]],
    ["read and state appear on a step that had none (an upgraded stack): recorded, nothing run", base, withRead, true, []],
    ["state alone appears: recorded, nothing run", { ...base, read: "read-it" }, withRead, true, []],
    ["a new read script alone: recorded, nothing run", withRead, { ...withRead, read: "read-it-v2" }, true, []],
    ["read and state dropped: recorded, nothing run", withRead, base, true, []],
    ["a trigger changed: runs, as before", withRead, { ...withRead, triggers: { v: "2" } }, true, ["make-it"]],
    ["no read at all, nothing changed", base, base, false, []],
  ])("%s", async (_name, olds, news, changes, runs) => {
    const d = await ops.diff("id", olds, news);
    expect(d.changes).toBe(changes);
    expect(d.replaces).toEqual([]);
    if (changes) {
      const u = await ops.update("id", olds, news);
      expect(u.outs).toEqual(news);
    }
    expect(ran()).toEqual(runs);
  });
  it("a step moved to another host is still replaced", async () => {
    expect((await ops.diff("id", withRead, { ...withRead, connection: { ...connection, host: "h2" } })).replaces).toEqual(["connection"]);
  });
});

describe("read (refresh)", () => {
  it.each<[string, S, { stdout: string; code: number }, Partial<S>]>([
    ["stores the trimmed output of the read, and the check's verdict", withRead, { stdout: `\n${FOUND}\nfolder /srv/shop 0710 shop www-data\n\n`, code: 0 },
      { state: `${FOUND}\nfolder /srv/shop 0710 shop www-data`, inSync: true }],
    ["a failed read is marked (never taken for the wanted state)", withRead, { stdout: "vhost shop present", code: 2 },
      { state: "vhost shop present\nread failed (exit 2)", inSync: false }],
    ["a secret printed by mistake is masked", { ...withRead, secrets: { PW: "hunter2-xyz" } }, { stdout: "password hunter2-xyz", code: 0 },
      { state: "password [secret]", inSync: true }],
    ["no read script: state untouched", base, { stdout: "whatever", code: 0 }, { inSync: true }],
  ])("%s", async (_name, props, r, want) => {
    answer = () => ({ stdout: r.stdout, stderr: "", code: r.code });
    const out = await ops.read("id", props);
    expect(out.props).toMatchObject(want);
    // The found state in the inputs too (preview --diff compares inputs); a step without a read leaves its inputs alone.
    if (props.read) expect((out as { inputs?: S }).inputs).toEqual(out.props);
    else expect("inputs" in out).toBe(false);
    if (!("state" in want) || want.state === undefined) expect("state" in out.props).toBe(false);
    expect(ran()).toEqual(props.read ? ["check-it", "read-it"] : ["check-it"]);
  });
  it("ssh could not connect (255): refresh fails, nothing stored", async () => {
    answer = (b) => ({ stdout: "", stderr: "", code: b.includes("read-it") ? 255 : 0 });
    await expect(ops.read("id", withRead)).rejects.toThrow(/read: thing on h: ssh could not connect/);
  });
  it("the next diff after a refresh that found drift re-runs the step; after the repair, none", async () => {
    answer = () => ({ stdout: FOUND, stderr: "", code: 0 });
    const found = (await ops.read("id", withRead)).props;
    expect((await ops.diff("id", found, withRead)).changes).toBe(true);
    const repaired = (await ops.update("id", found, withRead)).outs;
    expect(repaired.state).toBe(WANT);
    expect((await ops.diff("id", repaired, withRead)).changes).toBe(false);
  });
});

describe("foundState", () => {
  it.each<[string, number, Record<string, string>, string]>([
    ["  a\nb  \n", 0, {}, "a\nb"],
    ["", 1, {}, "read failed (exit 1)"],
    ["x s3cret y", 0, { A: "s3cret", B: "" }, "x [secret] y"],
  ])("%j exit %i", (stdout, code, secrets, want) => expect(ops.foundState(stdout, code, secrets)).toBe(want));
});
