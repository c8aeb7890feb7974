/**
 * A real OpenSSH server on loopback for tests that need one but not a whole test host:
 * its own host key, config and authorized key, started and stopped by PID.
 */
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync, existsSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Connection } from "../../providers/ssh.ts";
import { exitOf } from "./wait.ts";

export interface LoopbackSshd {
  readonly connection: Connection;
  stop(): Promise<void>;
}

/** A TCP port free on loopback right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

export async function startSshd(): Promise<LoopbackSshd> {
  const sshd = "/usr/sbin/sshd";
  if (!existsSync(sshd)) throw new Error("openssh-server is not installed (scripts/test installs it)");
  const dir = mkdtempSync(join(tmpdir(), "fleet-sshd-"));
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "host_key")]);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "client_key")]);
  writeFileSync(join(dir, "authorized_keys"), readFileSync(join(dir, "client_key.pub")), { mode: 0o600 });
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  const port = await freePort();
  writeFileSync(join(dir, "sshd_config"), [
    `Port ${port}`, "ListenAddress 127.0.0.1", `HostKey ${join(dir, "host_key")}`,
    `AuthorizedKeysFile ${join(dir, "authorized_keys")}`, "PasswordAuthentication no",
    "KbdInteractiveAuthentication no", "PermitRootLogin prohibit-password", "UsePAM no",
    `PidFile ${join(dir, "sshd.pid")}`, "StrictModes no", "LogLevel ERROR",
  ].join("\n") + "\n");
  const child: ChildProcess = spawn(sshd, ["-D", "-e", "-f", join(dir, "sshd_config")], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (b: Buffer) => (stderr += b.toString()));
  // Ready when the port accepts connections.
  for (let i = 0; i < 50; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createServer(); s.once("error", () => resolve(true)); s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (ok) break;
    if (child.exitCode !== null) throw new Error(`sshd exited: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const [type, key] = readFileSync(join(dir, "host_key.pub"), "utf8").trim().split(" ");
  return {
    connection: { host: "127.0.0.1", port, user: "root", hostKey: `${type} ${key}`, privateKey: readFileSync(join(dir, "client_key"), "utf8") },
    async stop() {
      if (child.exitCode === null) {
        const ended = exitOf(child, "the test sshd", 10_000);
        child.kill("SIGTERM");
        await ended;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
