/**
 * The plain-script peer (bench/peers/bash.ts): the script parses, writes every rendered
 * file from a heredoc, quotes every value, and its helpers do what the dev stack's
 * providers do: a file is replaced only when it differs; a unit is started, restarted,
 * reloaded or left alone as its triggers say, and proven ready (systemctl stubbed).
 */
import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { heredoc } from "../../lib/shell.ts";
import { bashFleetSessions, bashPeerScript, bashPeerSsh, bashPeerStdin, fleetChanges, knownHostsLine, REMOTE_COMMAND } from "../../bench/peers/bash.ts";
import { PRELUDE } from "../../bench/peers/bash/prelude.ts";
import { brokerAccount } from "../../bench/peers/bash/steps.ts";
import { renderPeerFleet, renderPeerStack } from "../../bench/peers/render.ts";
import type { BrokerAccountStep } from "../../bench/peers/types.ts";

const run = promisify(execFile);
const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEBxyQf8tCjF7tvD/PWVT/GQq8Pk5/2Zbx2+vijyO+PC";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
/** Secrets with every character a shell or SQL could trip on. */
const SECRETS = { djangoSecretKey: `k'e"y$(touch /tmp/x)\`id\`\\`, dbPassword: `db'pw"$HOME`, brokerPassword: `br"pw'$(id)` };
const stack = renderPeerStack({ host: { name: "peer-bash", address: "198.18.0.11", hostKey: HOST_KEY }, commit: COMMIT, secrets: SECRETS });
const body = bashPeerScript(stack);

let dir: string;
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "fleet-peer-bash-")); });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs bash as the peer does (-euo pipefail), the prelude first, then `test`. */
async function bash(test: string, env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run("bash", ["-euo", "pipefail", "-c", `${PRELUDE}\n${test}`], { env: { ...process.env, ...env }, timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe("the script", () => {
  it("parses (bash -n), as a body and as what ssh sends", () => {
    for (const text of [body, bashPeerStdin(stack)]) {
      const r = spawnSync("bash", ["-n"], { input: text, encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    }
  });

  it("writes every rendered file, verbatim, with its mode and owner", () => {
    for (const f of stack.files) {
      expect(body, f.path).toContain(`peer_file ${f.id} ${f.path} ${f.mode} ${f.owner} ${f.group} 0 ${heredoc(f.content)}`);
    }
  });

  it("runs every step, in the render's order", () => {
    const at = (s: string) => { const i = body.indexOf(s); expect(i, s).toBeGreaterThan(-1); return i; };
    const order = [
      "# --- packages", "peer_file firewall-rules", "peer_service django-fleet-firewall.service", "peer_service rsyslog.service",
      "peer_service postgresql@17-main.service", "peer_service rabbitmq-server.service", "# --- database fleetdemo",
      "# --- RabbitMQ vhost fleetdemo", "useradd --system", "# --- release 0123456789ab", "peer_file env",
      "collectstatic --noinput", "migrate --noinput", "peer_service fleetdemo-gunicorn.service", "# --- health gate",
      "peer_service fleetdemo-celery-worker.service", "peer_service fleetdemo-celery-beat.service", "peer_service nginx.service",
      "peer: no changes",
    ].map(at);
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it("carries the packages, the dev stack's build, migrate, collectstatic and gate scripts as they are", () => {
    for (const s of stack.steps) {
      if ("script" in s && s.kind !== "packages") expect(body, s.id).toContain(s.script.trimEnd());
    }
    const packages = stack.steps.find((s) => s.kind === "packages")!;
    expect(body).toContain(packages.kind === "packages" ? packages.script.trimEnd() : "");
  });

  it("never puts a secret outside a quoted heredoc or a single-quoted word", () => {
    // Each secret shows up only inside the heredocs that carry it (env file, SQL, the broker
    // password) or single-quoted; no line runs it unquoted.
    const lines = body.split("\n");
    let inHeredoc: string | undefined;
    for (const line of lines) {
      if (inHeredoc !== undefined) { if (line === inHeredoc) inHeredoc = undefined; continue; }
      const m = /<<'([A-Z_]+)'/.exec(line);
      for (const secret of Object.values(SECRETS)) expect(line.includes(secret), line).toBe(false);
      if (m) inHeredoc = m[1];
    }
    expect(body).not.toMatch(/set -x|xtrace/);
  });

  it("is sent as one session: ssh to the pinned host, bash reading the whole body first", () => {
    const argv = bashPeerSsh(stack.host, { identityFile: "/k/id", knownHostsFile: "/k/known_hosts" });
    expect(argv.slice(-3)).toEqual(["--", "198.18.0.11", REMOTE_COMMAND]);
    expect(argv).toContain("StrictHostKeyChecking=yes");
    expect(knownHostsLine(stack.host)).toBe(`198.18.0.11 ${HOST_KEY}\n`);
    expect(bashPeerStdin(stack)).toMatch(/^\{\n[\s\S]*\n\} <\/dev\/null\n$/);
  });
});

describe("peer_file", () => {
  const me = userInfo().username;
  const group = spawnSync("id", ["-gn"], { encoding: "utf8" }).stdout.trim();
  const write = (path: string, mode: string, content: string, nonl = 0) =>
    `peer_file f ${path} ${mode} ${me} ${group} ${nonl} ${heredoc(content)}\necho "changed=\${!peer_changed[*]}"`;

  it("writes a missing file, leaves an equal one alone, and rewrites one whose content or mode differ", async () => {
    const p = join(dir, "sub", "a.conf");
    expect((await bash(write(p, "0640", "one\n"))).stdout).toBe("changed=f\n");
    expect(readFileSync(p, "utf8")).toBe("one\n");
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect((await bash(write(p, "0640", "one\n"))).stdout).toBe("changed=\n");
    expect((await bash(write(p, "0600", "one\n"))).stdout).toBe("changed=f\n");
    expect(statSync(p).mode & 0o777).toBe(0o600);
    expect((await bash(write(p, "0600", "two\n"))).stdout).toBe("changed=f\n");
    expect(readFileSync(p, "utf8")).toBe("two\n");
  });

  it("keeps content without a final newline exact, and leaves no temporary file behind", async () => {
    const p = join(dir, "b.conf");
    await bash(write(p, "0644", "no newline", 1));
    expect(readFileSync(p, "utf8")).toBe("no newline");
    expect((await bash(write(p, "0644", "no newline", 1))).stdout).toBe("changed=\n");
    expect(spawnSync("ls", ["-A", dir], { encoding: "utf8" }).stdout.split("\n").filter((n) => n.includes(".peer."))).toEqual([]);
  });
});

describe("peer_service (systemctl stubbed)", () => {
  /** systemctl as a shell function: state in variables, every call logged. */
  const stub = (o: { active: boolean; enabled?: string; diesAfterStart?: boolean }) => [
    `ACTIVE=${o.active ? 1 : 0}; ENABLED=${o.enabled ?? "enabled"}; LOG=""`,
    "systemctl() {",
    '  case "$1" in',
    '    is-enabled) echo "$ENABLED" ;;',
    `    is-active) [ "$ACTIVE" = 1 ] ;;`,
    `    start|restart|reload-or-restart) LOG+="$1 "; ACTIVE=${o.diesAfterStart ? 0 : 1} ;;`,
    '    enable|daemon-reload) LOG+="$1 " ;;',
    '    show) case "$3" in NRestarts) echo 0 ;; Type) echo simple ;; esac ;;',
    "  esac",
    "}",
    "sleep() { :; }",
    "journalctl() { echo journal >&2; }",
  ].join("\n");
  const call = (args: string) => `peer_service u.service ${args}\necho "log=$LOG acted=$peer_acted changed=\${!peer_changed[*]}"`;

  it("starts and enables a unit that is neither", async () => {
    const r = await bash(`${stub({ active: false, enabled: "disabled" })}\n${call("0 0 0 '' '' 0")}`);
    expect(r.stdout).toBe("log=enable start  acted=started changed=u.service\n");
  });

  it("leaves a running unit alone when nothing it reads changed", async () => {
    const r = await bash(`${stub({ active: true })}\n${call("0 0 0 '' '' 0")}`);
    expect(r.stdout).toBe("log= acted=untouched changed=\n");
  });

  it("reloads on a reload trigger, restarts (with daemon-reload) on a restart trigger, and a restart covers a reload", async () => {
    expect((await bash(`${stub({ active: true })}\n${call("0 1 0 '' '' 0")}`)).stdout).toBe("log=reload-or-restart  acted=reloaded changed=u.service\n");
    expect((await bash(`${stub({ active: true })}\n${call("1 1 1 '' '' 0")}`)).stdout).toBe("log=daemon-reload restart  acted=started changed=u.service\n");
  });

  it("fails, with the unit's journal, when the unit does not stay running", async () => {
    const r = await bash(`${stub({ active: false, diesAfterStart: true })}\n${call("0 0 0 '' '' 0")}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("u.service did not stay running:");
    expect(r.stderr).toContain("journal");
  });

  describe("a ready port", () => {
    let tcp: ReturnType<typeof createTcpServer>;
    let http: Server;
    beforeAll(async () => {
      tcp = createTcpServer((s) => s.end());
      http = createServer((_req, res) => res.end("ok"));
      await Promise.all([new Promise<void>((r) => tcp.listen(0, "127.0.0.1", r)), new Promise<void>((r) => http.listen(0, "127.0.0.1", r))]);
    });
    afterAll(async () => {
      await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => http.close(r))]);
    });

    it("is proven by a connection, or by an HTTP status line (gunicorn's ready check)", async () => {
      const tcpPort = (tcp.address() as AddressInfo).port;
      const httpPort = (http.address() as AddressInfo).port;
      expect((await bash(`${stub({ active: false })}\n${call(`0 0 0 127.0.0.1 ${tcpPort} 0`)}`)).stdout).toBe("log=start  acted=started changed=u.service\n");
      expect((await bash(`${stub({ active: false })}\n${call(`0 0 0 127.0.0.1 ${httpPort} 1`)}`)).stdout).toBe("log=start  acted=started changed=u.service\n");
    });

    it("fails when the unit stops before it answers", async () => {
      // A port nothing listens on, and a unit that dies: the wait ends at once.
      const closed = createTcpServer();
      await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
      const port = (closed.address() as AddressInfo).port;
      await new Promise((r) => closed.close(r));
      const r = await bash(`${stub({ active: false, diesAfterStart: true })}\n${call(`0 0 0 127.0.0.1 ${port} 0`)}`);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`stopped before it answered on 127.0.0.1:${port}`);
    });
  });
});

describe("the broker account (rabbitmqctl and chgrp stubbed)", () => {
  // rabbitmqctl as a script on PATH: it logs its arguments, keeps the imported definitions
  // and exports them back (enough for lib/rabbitAccount.ts's check), and keeps a user list.
  const RABBITMQCTL = [
    "#!/bin/bash",
    'printf \'%s\\n\' "$*" >> "$STUB/argv"',
    'if [ "$1" = -q ]; then shift; fi',
    'case "$1" in',
    '  export_definitions) cat -- "$STUB/defs.json" 2>/dev/null || echo \'{"users":[],"vhosts":[],"permissions":[]}\' ;;',
    '  import_definitions) cp -- "$2" "$STUB/defs.json" ;;',
    '  list_users) cat -- "$STUB/users" ;;',
    '  delete_user) awk -v u="$2" \'$1 != u\' "$STUB/users" > "$STUB/users.new"; mv -- "$STUB/users.new" "$STUB/users" ;;',
    "  *) echo \"unexpected: $*\" >&2; exit 64 ;;",
    "esac",
    "",
  ].join("\n");
  let stub: string;
  beforeAll(() => {
    stub = join(dir, "rabbit");
    mkdirSync(join(stub, "bin"), { recursive: true });
    writeFileSync(join(stub, "bin", "rabbitmqctl"), RABBITMQCTL, { mode: 0o755 });
    // No rabbitmq group here: chgrp is a no-op.
    writeFileSync(join(stub, "bin", "chgrp"), "#!/bin/sh\nexit 0\n", { mode: 0o755 });
    writeFileSync(join(stub, "users"), "guest\t[administrator]\n");
  });
  const step = stack.steps.find((s): s is BrokerAccountStep => s.kind === "brokerAccount")!;
  const account = (password: string) => bash(`${brokerAccount({ ...step, password })}\necho "changed=\${!peer_changed[*]}"`,
    { PATH: `${join(stub, "bin")}:${process.env.PATH}`, STUB: stub });

  it("sets the account when RabbitMQ lacks it or holds another password, leaves it when it holds ours, and no rabbitmqctl call carries the password", async () => {
    const first = await account(SECRETS.brokerPassword);
    expect(first.stderr).toBe("");
    expect(first.stdout).toBe("changed=brokerAccount\n");
    expect(readFileSync(join(stub, "defs.json"), "utf8")).toContain(`"name":"${step.user}","password_hash":"`);
    expect(readFileSync(join(stub, "users"), "utf8")).toBe("");
    expect((await account(SECRETS.brokerPassword)).stdout).toBe("changed=\n");
    expect((await account("another password")).stdout).toBe("changed=brokerAccount\n");
    expect((await account("another password")).stdout).toBe("changed=\n");
    const argv = readFileSync(join(stub, "argv"), "utf8");
    expect(argv).toContain("import_definitions");
    for (const pw of [SECRETS.brokerPassword, "another password"]) expect(argv).not.toContain(pw);
    expect(argv).not.toMatch(/add_user|change_password/);
  });
});

describe("peer_any", () => {
  it("says whether any of the ids changed in this run", async () => {
    const r = await bash(`peer_mark a; for ids in "a" "b" "b a" ""; do if peer_any $ids; then echo yes; else echo no; fi; done; echo "$(peer_flag b a) $(peer_flag b)"`);
    expect(r.stdout).toBe("yes\nno\nyes\nno\n1 0\n");
  });

  it("keeps the peer's own state in files: marker contents hold the release and the env file's hash", () => {
    const marker = /printf '%s\\n' '([0-9a-f]{12} [0-9a-f]{12})' > \/srv\/fleetdemo\/releases\/0123456789ab\/\.peer-migrate/.exec(body);
    expect(marker?.[1]).toMatch(/^0123456789ab [0-9a-f]{12}$/);
  });
});

describe("the plain-script peer of a core host and app hosts (part 4)", () => {
  const roles = { core: ["loadBalancer", "worker", "beat", "db", "broker", "logging"], app: ["app"] } as const;
  const fleet = renderPeerFleet({
    hosts: [
      { name: "core", address: "198.18.0.20", hostKey: HOST_KEY, roles: [...roles.core] },
      { name: "app1", address: "198.18.0.21", hostKey: HOST_KEY, roles: [...roles.app] },
      { name: "app2", address: "198.18.0.22", hostKey: HOST_KEY, roles: [...roles.app] },
    ],
    commit: COMMIT, secrets: SECRETS,
    media: { target: { endpoint: "https://198.18.0.1:9000", bucket: "fleet-media", pathStyle: true, accessKeyId: "AKIDEXAMPLE", secretAccessKey: "s3-secret" } },
  });
  const sessions = bashFleetSessions(fleet);

  it("one session per host of a wave; every script parses; migrate in app1's only", () => {
    expect(sessions.map((w) => w.map((x) => x.host.name))).toEqual([["core", "app1", "app2"], ["app1"], ["app2"], ["core"]]);
    for (const w of sessions) {
      for (const x of w) {
        const parsed = spawnSync("bash", ["-n"], { input: x.stdin, encoding: "utf8" });
        expect(parsed.status, `${x.host.name}: ${parsed.stderr}`).toBe(0);
      }
    }
    const migrates = sessions.flat().filter((x) => x.stdin.includes("# --- manage.py migrate")).map((x) => x.host.name);
    expect(migrates).toEqual(["app1"]);
    expect(sessions[0]![0]!.stdin).toContain("# --- database fleetdemo");
    expect(sessions[0]![0]!.stdin).not.toContain("# --- release");
    expect(sessions[3]![0]!.stdin).toContain("# --- unit fleetdemo-celery-beat.service");
  });

  it("sums the sessions' last lines", () => {
    expect(fleetChanges([{ host: "core", last: "no changes" }, { host: "app1", last: "no changes" }])).toBe("no changes");
    expect(fleetChanges([{ host: "core", last: "no changes" }, { host: "app1", last: "changed: migrate" }])).toBe("app1: changed: migrate");
  });
});
