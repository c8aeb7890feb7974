/**
 * The parts of "a killed run leaves nothing running and is re-run" that need no host: the
 * engine address each of our processes watches, the end of a process (and its ssh
 * sessions) once the engine is gone, and the remote step lock, run here with a real flock.
 */
import { describe, expect, it } from "vitest";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { engineAddress } from "../../providers/ssh.ts";
import { STEP_LOCK_DIR, stepLock, survivingStep, WAITING } from "../../lib/stepLock.ts";
import { installScript } from "../../components/host.ts";

const ROOT = resolve(import.meta.dirname, "../..");

describe("engineAddress", () => {
  it.each([
    ["the program: PULUMI_NODEJS_ENGINE", ["node", "index.ts"], { PULUMI_NODEJS_ENGINE: "127.0.0.1:4001", PULUMI_NODEJS_MONITOR: "127.0.0.1:4002" }, "127.0.0.1:4001"],
    ["the program without an engine: the monitor", ["node", "index.ts"], { PULUMI_NODEJS_MONITOR: "127.0.0.1:4002" }, "127.0.0.1:4002"],
    ["the dynamic provider: its first argument", ["node", "/x/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js", "127.0.0.1:4003"], {}, "127.0.0.1:4003"],
    ["the dynamic provider without an address", ["node", "/x/cmd/dynamic-provider/index.js"], {}, undefined],
    ["a test or a tool", ["node", "vitest", "127.0.0.1:4004"], {}, undefined],
  ])("%s", (_what, argv, env, want) => {
    expect(engineAddress(argv, env)).toBe(want);
  });
});

describe("a process of ours once the engine is gone", () => {
  it("ends its ssh sessions and itself", async () => {
    const engine = createServer(() => undefined);
    await new Promise<void>((r) => engine.listen(0, "127.0.0.1", r));
    const port = (engine.address() as { port: number }).port;
    // A stand-in `ssh` that only sleeps: the process must end it, not wait for it.
    const bin = mkdtempSync(join(tmpdir(), "fake-ssh-"));
    writeFileSync(join(bin, "ssh"), "#!/bin/sh\necho $$ > \"$FAKE_SSH_PID\"\nexec sleep 300\n", { mode: 0o755 });
    const pidFile = join(bin, "pid");
    const child = spawn(process.execPath, ["--input-type=module", "-e", [
      `import { run } from ${JSON.stringify(join(ROOT, "providers/ssh.ts"))};`,
      `run({ host: "192.0.2.1", hostKey: "ssh-ed25519 AAAA", privateKey: "k" }, "true", { attempts: 1 });`,
    ].join("\n")], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, PULUMI_NODEJS_ENGINE: `127.0.0.1:${port}`, FAKE_SSH_PID: pidFile },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => { stderr += b.toString(); });
    const ended = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    const until = Date.now() + 20_000;
    let sshPid = "";
    while (!sshPid && Date.now() < until) {
      sshPid = spawnSync("cat", [pidFile], { encoding: "utf8" }).stdout.trim();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sshPid, "the fake ssh never started").not.toBe("");
    engine.close();
    const code = await Promise.race([ended, new Promise((r) => setTimeout(() => r("still running after 10 s"), 10_000))]);
    if (code === "still running after 10 s") child.kill("SIGKILL");
    expect(code, stderr).toBe(1);
    expect(stderr).toContain("the pulumi engine at 127.0.0.1:");
    // Gone, or a zombie nobody has reaped yet (it no longer runs).
    const running = () => { try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${sshPid}/stat`, "utf8")); } catch { return false; } };
    const bound = Date.now() + 5000;
    while (running() && Date.now() < bound) await new Promise((r) => setTimeout(r, 100));
    expect(running(), "the ssh session outlived its process").toBe(false);
  }, 40_000);
});

describe("stepLock", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "step-lock-"));
  const bash = (body: string) => spawnSync("bash", ["-euo", "pipefail", "-c", body], { encoding: "utf8", timeout: 20_000 });

  it("runs the step at once when no earlier one holds the lock", () => {
    const r = bash(stepLock("install packages (3)", 5, dir()) + "echo done");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("done\n");
  });

  it("refuses a lock folder that is a link, never writing through it", () => {
    const target = dir();
    chmodSync(target, 0o755);
    const link = join(dir(), "locks");
    symlinkSync(target, link);
    const r = bash(stepLock("install packages (3)", 5, link) + "echo done");
    expect(r.status).toBe(75);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`django-fleet: ${link} is not a folder of`);
    expect(readdirSync(target)).toEqual([]);
    // Not even its mode changed through the link.
    expect(statSync(target).mode & 0o777).toBe(0o755);
  });

  it("lives in root's own folder under /run, not in /run/lock (which every user may write)", () => {
    expect(STEP_LOCK_DIR).toBe("/run/django-fleet/step-locks");
  });

  it("waits for the same step left running, saying what it waits for", () => {
    const d = dir();
    // The earlier step: holds the lock (through a child, like apt) for a second.
    const holder = spawn("bash", ["-euo", "pipefail", "-c", stepLock("install packages (3)", 5, d) + "echo held; sleep 1"], { stdio: ["ignore", "pipe", "ignore"] });
    return new Promise<void>((done, fail) => {
      holder.stdout.once("data", () => {
        const r = bash(stepLock("install packages (3)", 20, d) + "echo done");
        try {
          expect(r.stdout).toBe("done\n");
          expect(r.stderr).toMatch(new RegExp(`^${WAITING} 'install packages \\(3\\)' still running from an earlier, interrupted run \\(pid \\d+ since .*\\); up to 0 min\\n$`));
          done();
        } catch (e) { fail(e); }
      });
    });
  });

  it("gives up after its bound with what to do", () => {
    const d = dir();
    const holder = spawn("bash", ["-c", stepLock("migrate", 5, d) + "echo held; sleep 30"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    return new Promise<void>((done, fail) => {
      holder.stdout.once("data", () => {
        const r = bash(stepLock("migrate", 1, d) + "echo done");
        process.kill(-holder.pid!, "SIGKILL");
        try {
          expect(r.status).toBe(75);
          expect(r.stdout).toBe("");
          expect(r.stderr).toContain("'migrate' from an earlier run is still running after 0 min (pid ");
          expect(r.stderr).toContain("then run `pulumi up` again");
          done();
        } catch (e) { fail(e); }
      });
    });
  });

  it("a lock held only by a daemon the earlier step started is not waited for", () => {
    const d = dir();
    // The earlier step's shell has ended; a background process it started holds the lock.
    const r0 = bash(stepLock("start a daemon", 5, d) + "setsid sleep 30 >/dev/null 2>&1 & echo $!");
    const daemon = Number(r0.stdout.trim());
    const r = bash(stepLock("start a daemon", 1, d) + "echo done");
    process.kill(daemon, "SIGKILL");
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("done\n");
  });

  it("another step is not held up", () => {
    const d = dir();
    const holder = spawn("bash", ["-c", stepLock("migrate", 5, d) + "echo held; sleep 30"], { stdio: ["ignore", "pipe", "ignore"], detached: true });
    return new Promise<void>((done, fail) => {
      holder.stdout.once("data", () => {
        const r = bash(stepLock("collectstatic", 1, d) + "echo done");
        process.kill(-holder.pid!, "SIGKILL");
        try { expect(r.stdout).toBe("done\n"); done(); } catch (e) { fail(e); }
      });
    });
  });
});

describe("survivingStep", () => {
  const bash = (body: string) => spawnSync("bash", ["-euo", "pipefail", "-c", body], { encoding: "utf8", timeout: 20_000 });

  it("passes on the step's output and exit status", () => {
    expect(bash(survivingStep("echo out\necho err >&2\nexit 3\n"))).toMatchObject({ stdout: "out\n", stderr: "err\n", status: 3 });
    expect(bash(survivingStep("echo ok"))).toMatchObject({ stdout: "ok\n", stderr: "", status: 0 });
  });

  it("stops at the step's first failing command (bash -e)", () => {
    expect(bash(survivingStep("false\necho not here\n"))).toMatchObject({ stdout: "", status: 1 });
  });

  it("runs the step to its end when the session's pipes close under it", async () => {
    const done = join(mkdtempSync(join(tmpdir(), "surviving-")), "done");
    const child = spawn("bash", ["-euo", "pipefail", "-c", survivingStep(`sleep 1\necho late >&2\necho later\ntouch ${done}\n`)], { stdio: ["ignore", "pipe", "pipe"] });
    // What ssh's end does to the remote side: nobody reads the step's output any more.
    child.stdout.destroy();
    child.stderr.destroy();
    const bound = Date.now() + 10_000;
    while (!existsSync(done) && Date.now() < bound) await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(done), "the step died with its session").toBe(true);
  });
});

describe("installScript", () => {
  it("waits for dpkg's lock rather than failing on it", () => {
    const s = installScript(["nginx"]);
    expect(s).toContain("apt-get update -q -o DPkg::Lock::Timeout=900");
    expect(s).toContain("apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=900");
  });
});
