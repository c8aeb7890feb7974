import { execFile, execFileSync } from "node:child_process";
import { createServer as createHttpServer, type Server as HttpServer } from "node:http";
import { createServer, type AddressInfo, type Server } from "node:net";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as file from "../../providers/remoteFile.ops.ts";
import * as service from "../../providers/systemdService.ops.ts";
import * as db from "../../providers/postgresDatabase.ops.ts";
import { sqlLiteral } from "../../lib/sql.ts";
import * as step from "../../providers/remoteScript.ops.ts";
import * as secret from "../../providers/randomSecret.ops.ts";
import { wrapBody, type Connection } from "../../providers/ssh.ts";

const conn: Connection = { host: "10.0.0.5", hostKey: "ssh-ed25519 AAAA", privateKey: "KEY" };

/** Runs a script the way providers/ssh.ts does on a host: `bash -euo pipefail -s`, wrapped body on stdin. */
function bash(body: string): string {
  return execFileSync("bash", ["-euo", "pipefail", "-s"], { input: wrapBody(body), encoding: "utf8" });
}

describe("remoteFile: parseProbe", () => {
  it("MISSING means no file", () => {
    expect(file.parseProbe("MISSING\n")).toBeUndefined();
    expect(file.parseProbe("  MISSING  \n")).toBeUndefined();
  });

  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  const cases: Array<[string, string, file.ObservedFile]> = [
    ["a 3-digit mode is padded", `644 root root\n${b64("hello\n")}\n`, { mode: "0644", owner: "root", group: "root", content: "hello\n" }],
    ["a 4-digit mode is kept", `1777 redis adm\n${b64("x")}\n`, { mode: "1777", owner: "redis", group: "adm", content: "x" }],
    ["an empty file", "600 postgres postgres\n\n", { mode: "0600", owner: "postgres", group: "postgres", content: "" }],
    ["unicode content", `640 root www-data\n${b64("héllo ☃\n")}\n`, { mode: "0640", owner: "root", group: "www-data", content: "héllo ☃\n" }],
  ];
  for (const [name, stdout, expected] of cases) {
    it(name, () => expect(file.parseProbe(stdout)).toEqual(expected));
  }

  it("a malformed first line throws", () => {
    expect(() => file.parseProbe("644 root\naGk=\n")).toThrow('unexpected file probe output: "644 root"');
    expect(() => file.parseProbe("")).toThrow('unexpected file probe output: ""');
  });

  it("the probe script prints MISSING, or stat and base64", () => {
    expect(file.probeScript("/etc/a b.conf")).toBe([
      "p='/etc/a b.conf'",
      'if [ ! -f "$p" ]; then echo MISSING; exit 0; fi',
      "stat -c '%a %U %G' \"$p\"",
      'base64 -w0 "$p"; echo',
    ].join("\n") + "\n");
  });
});

describe("remoteFile: plan", () => {
  const desired: file.FileState = {
    connection: conn, path: "/etc/shop/app.conf", content: "a = 1\n", mode: "0640", owner: "root", group: "shop",
  };
  const same: file.ObservedFile = { content: "a = 1\n", mode: "0640", owner: "root", group: "shop" };

  it("returns nothing to do when the file matches", () => {
    expect(file.plan(desired, same)).toBe("");
  });

  const full = [
    "p=/etc/shop/app.conf",
    "d=/etc/shop; [ -d \"$d\" ] || install -d -m 0755 \"$d\"",
    'tmp=$(mktemp "$p.fleet.XXXXXX")',
    `trap 'rm -f "$tmp"' EXIT`,
    `cat > "$tmp" <<'FLEET_EOF'`,
    "a = 1",
    "FLEET_EOF",
    "chown root:shop \"$tmp\"",
    "chmod 0640 \"$tmp\"",
    'mv -f "$tmp" "$p"',
    "trap - EXIT",
  ].join("\n") + "\n";

  const cases: Array<[string, file.ObservedFile | undefined]> = [
    ["the file is missing", undefined],
    ["the content differs", { ...same, content: "a = 2\n" }],
    ["the mode differs", { ...same, mode: "0644" }],
    ["the owner differs", { ...same, owner: "shop" }],
    ["the group differs", { ...same, group: "root" }],
  ];
  for (const [name, observed] of cases) {
    it(`writes through a temp file and mv when ${name}`, () => {
      expect(file.plan(desired, observed)).toBe(full);
    });
  }

  it("content without a trailing newline adds the truncate step", () => {
    const body = file.plan({ ...desired, content: "no newline" }, same);
    expect(body).toBe([
      "p=/etc/shop/app.conf",
      "d=/etc/shop; [ -d \"$d\" ] || install -d -m 0755 \"$d\"",
        'tmp=$(mktemp "$p.fleet.XXXXXX")',
      `trap 'rm -f "$tmp"' EXIT`,
      `cat > "$tmp" <<'FLEET_EOF'`,
      "no newline",
      "FLEET_EOF",
      'truncate -s -1 "$tmp"',
      "chown root:shop \"$tmp\"",
      "chmod 0640 \"$tmp\"",
      'mv -f "$tmp" "$p"',
      "trap - EXIT",
    ].join("\n") + "\n");
  });

  it("quotes a path with spaces and quotes", () => {
    const body = file.plan({ ...desired, path: "/tmp/it's here/f" }, undefined);
    expect(body.split("\n").slice(0, 2)).toEqual(["p='/tmp/it'\\''s here/f'", "d='/tmp/it'\\''s here'; [ -d \"$d\" ] || install -d -m 0755 \"$d\""]);
  });

  it("check pads the mode and rejects relative paths and bad modes", async () => {
    expect(await file.check(undefined, { ...desired, mode: "644" })).toEqual({ inputs: { ...desired, mode: "0644" }, failures: [] });
    const bad = await file.check(undefined, { ...desired, path: "etc/x", mode: "0999" });
    expect(bad.failures).toEqual([
      { property: "path", reason: 'must be an absolute path, got "etc/x"' },
      { property: "mode", reason: 'must be an octal mode like 0644, got "0999"' },
    ]);
  });

  it("diff: same inputs → no changes; content → update; path → replace", async () => {
    const recorded = { ...desired, written: "2026-12-05T08:00:00.000Z" };
    expect(await file.diff("id", recorded, { ...desired })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await file.diff("id", recorded, { ...desired, content: "b\n" })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(await file.diff("id", recorded, { ...desired, path: "/etc/other" })).toEqual({ changes: true, replaces: ["path"], deleteBeforeReplace: false });
    // A new private key is the same host: an in-place update (refresh and delete use the stored connection).
    expect(await file.diff("id", recorded, { ...desired, connection: { ...conn, privateKey: "OTHER" } })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    // State from before write stamps: one update records a stamp.
    expect(await file.diff("id", desired, { ...desired })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  describe("writtenAfter: the stamp an update records", () => {
    const now = "2026-12-05T09:00:00.000Z";
    const was = "2026-12-05T08:00:00.000Z";
    const recorded = { ...desired, written: was };
    const cases: Array<[string, file.FileState, file.FileState, boolean, string]> = [
      ["nothing written, nothing differed: the old stamp (the empty plan)", recorded, desired, false, was],
      ["written (drift repaired, content as the program had it): a new stamp", recorded, desired, true, now],
      ["the recorded content differed (a refresh saw a hand edit): a new stamp", { ...recorded, content: "hand edit\n" }, desired, false, now],
      ["new content, already on disk (a killed run wrote it unrecorded): a new stamp", recorded, { ...desired, content: "b\n" }, false, now],
      ["mode changed: a new stamp", recorded, { ...desired, mode: "0600" }, true, now],
      ["only the connection changed: the old stamp", recorded, { ...desired, connection: { ...conn, privateKey: "OTHER" } }, false, was],
      ["older state, nothing written: a fixed stamp, so the upgrade reloads nothing", desired, desired, false, file.UNTRACKED],
      ["older state, written: a new stamp", desired, desired, true, now],
    ];
    for (const [name, olds, news, wrote, expected] of cases) {
      it(name, () => expect(file.writtenAfter(olds, news, wrote, now)).toBe(expected));
    }
  });
});

describe("remoteFile: the generated bash, run locally", () => {
  let dir: string;
  beforeAll(() => { dir = mkdtempSync(join(tmpdir(), "fleet-file-")); });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const uid = process.getuid?.() ?? -1;
  const me = uid === 0 ? "root" : execFileSync("id", ["-un"], { encoding: "utf8" }).trim();
  const myGroup = uid === 0 ? "root" : execFileSync("id", ["-gn"], { encoding: "utf8" }).trim();

  const contents: Array<[string, string, string]> = [
    ["text with a trailing newline", "a.conf", "key = value\n# $HOME `id` 'q'\n"],
    ["text without a trailing newline", "b.conf", "no newline at end"],
    ["an empty file", "c.conf", ""],
    ["content holding the heredoc marker", "d.conf", "FLEET_EOF\nFLEET_EOF_\n"],
    ["a new sub-directory", "sub/dir/e.conf", "nested\n"],
  ];
  for (const [name, rel, content] of contents) {
    it(`writes ${name}; then probe shows a match and the plan is empty`, () => {
      const desired: file.FileState = { connection: conn, path: join(dir, rel), content, mode: "0600", owner: me, group: myGroup };
      expect(file.parseProbe(bash(file.probeScript(desired.path)))).toBeUndefined();
      const body = file.plan(desired, undefined);
      expect(body).not.toBe("");
      bash(body);
      expect(readFileSync(desired.path, "utf8")).toBe(content);
      expect((statSync(desired.path).mode & 0o7777).toString(8)).toBe("600");
      const observed = file.parseProbe(bash(file.probeScript(desired.path)));
      expect(observed).toEqual({ content, mode: "0600", owner: me, group: myGroup });
      expect(file.plan(desired, observed)).toBe("");
      // No temp file is left beside the target.
      expect(readdirSync(join(dir, rel, "..")).filter((f) => f.includes(".fleet."))).toEqual([]);
    });
  }

  it("repairs a hand edit and a wrong mode, as root:root when run as root", () => {
    const path = join(dir, "edited.conf");
    writeFileSync(path, "hand edit\n");
    chmodSync(path, 0o666);
    const desired: file.FileState = { connection: conn, path, content: "managed\n", mode: "0644", owner: me, group: myGroup };
    const before = file.parseProbe(bash(file.probeScript(path)));
    expect(before).toEqual({ content: "hand edit\n", mode: "0666", owner: me, group: myGroup });
    bash(file.plan(desired, before));
    expect(file.plan(desired, file.parseProbe(bash(file.probeScript(path))))).toBe("");
    expect(readFileSync(path, "utf8")).toBe("managed\n");
  });

  it("sets owner root:root as root; as anyone else fails and leaves neither target nor temp file", () => {
    const path = join(dir, "owned", "root.conf");
    const desired: file.FileState = { connection: conn, path, content: "x\n", mode: "0640", owner: "root", group: "root" };
    if (uid === 0) {
      bash(file.plan(desired, undefined));
      expect(file.parseProbe(bash(file.probeScript(path)))).toEqual({ content: "x\n", mode: "0640", owner: "root", group: "root" });
    } else {
      expect(() => bash(file.plan(desired, undefined))).toThrow();
      expect(file.parseProbe(bash(file.probeScript(path)))).toBeUndefined();
    }
    expect(readdirSync(join(dir, "owned"))).toEqual(uid === 0 ? ["root.conf"] : []);
  });
});

describe("systemdService: parseProbe", () => {
  const cases: Array<[string, string, service.ObservedService]> = [
    ["enabled and running", "enabled active\n", { enabled: true, active: true }],
    ["reloading counts as active", "enabled reloading\n", { enabled: true, active: true }],
    ["disabled and stopped", "disabled inactive\n", { enabled: false, active: false }],
    ["failed", "enabled failed\n", { enabled: true, active: false }],
    ["in systemd's restart delay (activating): not active, so up starts it, and the start waits out the delay", "enabled activating\n", { enabled: true, active: false }],
    ["static units count as enabled (enabled through another unit)", "static active\n", { enabled: true, active: true }],
    ["indirect units count as enabled", "indirect active\n", { enabled: true, active: true }],
    ["disabled units are not enabled", "disabled active\n", { enabled: false, active: true }],
    ["unknown unit: is-enabled prints nothing", " inactive\n", { enabled: false, active: false }],
    ["nothing at all", "", { enabled: false, active: false }],
    ["masked: neither enabled nor running, and marked", "masked inactive\n", { enabled: false, active: false, masked: true }],
    ["masked at runtime", "masked-runtime inactive\n", { enabled: false, active: false, masked: true }],
  ];
  for (const [name, stdout, expected] of cases) {
    it(name, () => expect(service.parseProbe(stdout)).toEqual(expected));
  }
});

describe("systemdService: plan", () => {
  const orJournal = (c: string) => `${c} || { sleep 2; ${c}; } || { journalctl -u ${unit} -n 25 --no-pager -o cat >&2; exit 1; }`;
  const unit = "shop-gunicorn.service";
  /** The readiness tail of a plan for an active service without a ready port. */
  const ready = (acted: "started" | "reloaded" | "untouched") => [
    `n0=$(systemctl show -p NRestarts --value ${unit})`,
    `running() { systemctl is-active --quiet ${unit} && [ "$(systemctl show -p NRestarts --value ${unit})" = "$n0" ]; }`,
    `down() { echo ${unit} "$1" >&2; journalctl -u ${unit} -n 25 --no-pager -o cat >&2; exit 1; }`,
    ...(acted === "untouched" ? [] : [
      `case "$(systemctl show -p Type --value ${unit})" in simple|exec|idle)`,
      "  for _ in 1 2 3 4 5 6; do sleep 0.25; running || down 'did not stay running:'; done ;;",
      "esac",
    ]),
    acted === "untouched" ? "running || down 'is not running:'" : "running || down 'did not stay running:'",
  ];
  const up: service.ServiceState = { connection: conn, unit, enabled: true, active: true };
  const none = { restart: false, reload: false };
  type Case = [string, service.ServiceState, service.ObservedService, { restart: boolean; reload: boolean }, string[] | ""];
  const cases: Case[] = [
    ["nothing to do", up, { enabled: true, active: true }, none, ""],
    ["stopped → start", up, { enabled: true, active: false }, none, [orJournal(`systemctl start ${unit}`), ...ready("started")]],
    ["changed restartOn → daemon-reload + restart", up, { enabled: true, active: true }, { restart: true, reload: false },
      ["systemctl daemon-reload", orJournal(`systemctl restart ${unit}`), ...ready("started")]],
    ["restart covers reload", up, { enabled: true, active: true }, { restart: true, reload: true },
      ["systemctl daemon-reload", orJournal(`systemctl restart ${unit}`), ...ready("started")]],
    ["changed reloadOn only → reload-or-restart", up, { enabled: true, active: true }, { restart: false, reload: true },
      [orJournal(`systemctl reload-or-restart ${unit}`), ...ready("reloaded")]],
    ["stopped with changes → just start (after daemon-reload)", up, { enabled: true, active: false }, { restart: true, reload: true },
      ["systemctl daemon-reload", orJournal(`systemctl start ${unit}`), ...ready("started")]],
    ["disabled → enable, then one check that it runs", up, { enabled: false, active: true }, none, [`systemctl enable ${unit}`, ...ready("untouched")]],
    ["disabled and stopped → enable and start", up, { enabled: false, active: false }, none,
      [`systemctl enable ${unit}`, orJournal(`systemctl start ${unit}`), ...ready("started")]],
    ["desired inactive & active → stop", { ...up, active: false }, { enabled: true, active: true }, none, [`systemctl stop ${unit}`]],
    ["desired inactive & active, reload change → stop only", { ...up, active: false }, { enabled: true, active: true }, { restart: false, reload: true },
      [`systemctl stop ${unit}`]],
    ["desired off entirely → disable and stop", { ...up, enabled: false, active: false }, { enabled: true, active: true }, none,
      [`systemctl disable ${unit}`, `systemctl stop ${unit}`]],
    ["desired inactive & already inactive → nothing", { ...up, active: false }, { enabled: true, active: false }, none, ""],
    ["masked (systemctl mask) → unmask, enable and start", up, { enabled: false, active: false, masked: true }, none,
      [`systemctl unmask ${unit}`, `systemctl enable ${unit}`, orJournal(`systemctl start ${unit}`), ...ready("started")]],
    ["masked and desired off → nothing to undo", { ...up, enabled: false, active: false }, { enabled: false, active: false, masked: true }, none, ""],
    // A timer has no NRestarts and no Type: it is checked once.
    ["a timer started → checked once, without NRestarts", { ...up, unit: "backup.timer" }, { enabled: false, active: false }, none, [
      "systemctl enable backup.timer",
      "systemctl start backup.timer || { sleep 2; systemctl start backup.timer; } || { journalctl -u backup.timer -n 25 --no-pager -o cat >&2; exit 1; }",
      "running() { systemctl is-active --quiet backup.timer; }",
      `down() { echo backup.timer "$1" >&2; journalctl -u backup.timer -n 25 --no-pager -o cat >&2; exit 1; }`,
      "running || down 'did not stay running:'",
    ]],
    // A ready port replaces the watch after a start: the port is polled until it answers.
    ["started with a ready port → polled until it answers, no watch", { ...up, unit: "memcached.service", readyCheck: { port: 11211 } },
      { enabled: true, active: true }, { restart: true, reload: false }, [
        "systemctl daemon-reload",
        "systemctl restart memcached.service || { sleep 2; systemctl restart memcached.service; } || { journalctl -u memcached.service -n 25 --no-pager -o cat >&2; exit 1; }",
        "n0=$(systemctl show -p NRestarts --value memcached.service)",
        `running() { systemctl is-active --quiet memcached.service && [ "$(systemctl show -p NRestarts --value memcached.service)" = "$n0" ]; }`,
        `down() { echo memcached.service "$1" >&2; journalctl -u memcached.service -n 25 --no-pager -o cat >&2; exit 1; }`,
        "end=$((SECONDS + 30))",
        `until timeout 2 bash -c ': 3<>"/dev/tcp/$0/$1"' 127.0.0.1 11211 2>/dev/null; do`,
        "  running || down 'stopped before it answered on 127.0.0.1:11211:'",
        `  [ "$SECONDS" -lt "$end" ] || down 'did not answer on 127.0.0.1:11211 within 30 s:'`,
        "  sleep 0.25",
        "done",
        "running || down 'did not stay running:'",
      ]],
    // After a reload the watch comes first (gunicorn's old workers answer until HUP is handled),
    // then an HTTP answer, which a worker started after the reload gives.
    ["reloaded with an HTTP ready port → watch, then an HTTP answer", { ...up, readyCheck: { port: 8000, host: "10.0.0.5", http: true } },
      { enabled: true, active: true }, { restart: false, reload: true }, [
        orJournal(`systemctl reload-or-restart ${unit}`),
        ...ready("reloaded").slice(0, -1),
        "end=$((SECONDS + 30))",
        `until timeout 10 bash -c 'exec 3<>"/dev/tcp/$0/$1" && printf "GET / HTTP/fleet-ready-probe\\r\\n\\r\\n" >&3 && IFS= read -r l <&3 && [[ $l == HTTP/* ]]' 10.0.0.5 8000 2>/dev/null; do`,
        "  running || down 'stopped before it answered on 10.0.0.5:8000:'",
        `  [ "$SECONDS" -lt "$end" ] || down 'did not answer on 10.0.0.5:8000 within 30 s:'`,
        "  sleep 0.25",
        "done",
        "running || down 'did not stay running:'",
      ]],
    ["a ready port is not polled when nothing was started or reloaded", { ...up, readyCheck: { port: 8000 } }, { enabled: false, active: true }, none,
      [`systemctl enable ${unit}`, ...ready("untouched")]],
  ];
  for (const [name, desired, observed, change, expected] of cases) {
    it(name, () => {
      expect(service.plan(desired, observed, change)).toBe(expected === "" ? "" : expected.join("\n") + "\n");
    });
  }

  it("quotes an odd unit name", () => {
    const body = service.plan({ ...up, unit: "a b.service" }, { enabled: true, active: false }, none);
    expect(body.split("\n")[0]).toBe("systemctl start 'a b.service' || { sleep 2; systemctl start 'a b.service'; } || { journalctl -u 'a b.service' -n 25 --no-pager -o cat >&2; exit 1; }");
    expect(body).toContain(`down() { echo 'a b.service' "$1" >&2; journalctl -u 'a b.service' -n 25`);
  });

  it("no plan waits a fixed time: no `sleep 1`, at most 1.5 s of watching", () => {
    for (const [, desired, observed, change] of cases) {
      const body = service.plan(desired, observed, change);
      expect(body).not.toMatch(/sleep 1\b|for _ in 1 2 3 4 5;/);
      expect((body.match(/sleep 0\.25/g) ?? []).length).toBeLessThanOrEqual(2);
    }
    expect(service.SETTLE_STEPS * 0.25).toBeLessThanOrEqual(1.5);
  });

  it("a wildcard ready host means loopback; a bad port is refused", () => {
    const p = (readyCheck: service.ReadyCheck) => service.plan({ ...up, readyCheck }, { enabled: true, active: false }, none);
    expect(p({ port: 80, host: "0.0.0.0" })).toContain("' 127.0.0.1 80 2>/dev/null");
    expect(p({ port: 80, host: "::" })).toContain("' ::1 80 2>/dev/null");
    expect(() => p({ port: 0 })).toThrow(/readyCheck.port 0 is not a TCP port/);
    expect(() => p({ port: 8000.5 })).toThrow(/not a TCP port/);
  });

  describe("run locally against a fake systemctl", () => {
    let bin: string;
    let tcp: Server;
    let http: HttpServer;
    let silent: Server;
    let closedPort: number;
    const port = (s: Server | HttpServer) => (s.address() as AddressInfo).port;
    beforeAll(async () => {
      bin = mkdtempSync(join(tmpdir(), "fleet-systemctl-"));
      const stub = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      // Logs every call. `is-active` and `show -p NRestarts` answer from FAKE_ACTIVE and
      // FAKE_NRESTARTS: space-separated answers for the 1st, 2nd, ... call, the last one
      // repeating. `show -p Type` answers FAKE_TYPE.
      stub("systemctl", [
        'echo "systemctl $*" >> "$FAKE_LOG"',
        'pick() { local -a v=($1); local i=$(( $(grep -c -- "^systemctl $2" "$FAKE_LOG") - 1 )); [ "$i" -lt "${#v[@]}" ] || i=$(( ${#v[@]} - 1 )); echo "${v[$i]}"; }',
        'case "$1" in',
        '  is-active) [ "$(pick "$FAKE_ACTIVE" is-active)" = yes ] ;;',
        '  show) case "$3" in Type) echo "$FAKE_TYPE" ;; NRestarts) pick "$FAKE_NRESTARTS" "show -p NRestarts" ;; esac ;;',
        "  *) true ;;",
        "esac",
      ].join("\n"));
      stub("journalctl", 'echo "journal of $2"');
      stub("sleep", 'echo "sleep $*" >> "$FAKE_LOG"');
      const listen = (s: Server | HttpServer) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
      tcp = createServer((c) => c.end());
      // Node's HTTP server answers a malformed request line with 400, as gunicorn does.
      http = createHttpServer((_req, res) => res.end("app code ran"));
      // Accepts and closes without a word: a port that is open but is no HTTP server.
      silent = createServer((c) => c.destroy());
      await Promise.all([listen(tcp), listen(http), listen(silent)]);
      const spare = createServer();
      await listen(spare);
      closedPort = port(spare);
      await new Promise((resolve) => spare.close(resolve));
    });
    afterAll(async () => {
      rmSync(bin, { recursive: true, force: true });
      await Promise.all([tcp, http, silent].map((s) => new Promise((resolve) => s.close(resolve))));
    });

    interface Fake { active?: string; nRestarts?: string; type?: string }
    /** Runs a plan as providers/ssh.ts does; async, so this process's test servers can answer. */
    async function runPlan(body: string, fake: Fake = {}) {
      const log = join(bin, `log-${Math.random().toString(36).slice(2)}`);
      writeFileSync(log, "");
      const calls = () => readFileSync(log, "utf8").trim().split("\n").filter(Boolean);
      const env = {
        ...process.env, PATH: `${bin}:${process.env.PATH}`, FAKE_LOG: log,
        FAKE_ACTIVE: fake.active ?? "yes", FAKE_NRESTARTS: fake.nRestarts ?? "0", FAKE_TYPE: fake.type ?? "simple",
      };
      return new Promise<{ code: number; stderr: string; calls: string[] }>((resolve) => {
        const child = execFile("bash", ["-euo", "pipefail", "-s"], { env, encoding: "utf8" }, (err, _stdout, stderr) => {
          resolve({ code: err ? (err as { code?: number }).code ?? -1 : 0, stderr, calls: calls() });
        });
        child.stdin!.end(wrapBody(body));
      });
    }

    const start = (over: Partial<service.ServiceState> = {}) => service.plan({ ...up, ...over }, { enabled: true, active: false }, none);
    const reload = (over: Partial<service.ServiceState> = {}) => service.plan({ ...up, ...over }, { enabled: true, active: true }, { restart: false, reload: true });
    const check = [`systemctl is-active --quiet ${unit}`, `systemctl show -p NRestarts --value ${unit}`];
    /** The count taken once our action returned. */
    const n0 = `systemctl show -p NRestarts --value ${unit}`;
    const watch = Array.from({ length: 6 }, () => ["sleep 0.25", ...check]).flat();

    it("a started simple unit that stays up: watched 1.5 s in 0.25 s steps, exit 0", async () => {
      const r = await runPlan(start());
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([`systemctl start ${unit}`, n0, `systemctl show -p Type --value ${unit}`, ...watch, ...check]);
    });

    it("a started notify (or forking, oneshot) unit is ready when its start returns: one check, no sleep", async () => {
      for (const type of ["notify", "forking", "oneshot"]) {
        const r = await runPlan(start(), { type });
        expect(r.code).toBe(0);
        expect(r.calls).toEqual([`systemctl start ${unit}`, n0, `systemctl show -p Type --value ${unit}`, ...check]);
      }
    });

    it("a started unit that systemd had to restart fails the run with its journal", async () => {
      const r = await runPlan(start(), { nRestarts: "0 1" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${unit} did not stay running:\njournal of ${unit}\n`);
    });

    it("a notify unit restarted by systemd fails too", async () => {
      const r = await runPlan(start(), { type: "notify", nRestarts: "0 1" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${unit} did not stay running:\njournal of ${unit}\n`);
    });

    it("readiness is about this start: a restart history (NRestarts never reset) does not count", async () => {
      // A unit that failed three times before (or came out of systemd's restart delay when
      // our start went through): the count stays 3 while this start runs.
      for (const type of ["simple", "notify"]) {
        const r = await runPlan(start(), { type, nRestarts: "3" });
        expect(r.code, r.stderr).toBe(0);
      }
      const viaPort = await runPlan(start({ readyCheck: { port: port(tcp) } }), { nRestarts: "12" });
      expect(viaPort.code, viaPort.stderr).toBe(0);
      // ... and a restart on top of that history is still caught.
      const again = await runPlan(start(), { nRestarts: "3 3 4" });
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(`${unit} did not stay running:\njournal of ${unit}\n`);
    });

    it("a unit that is not active fails the run at the first check", async () => {
      const r = await runPlan(start(), { active: "no" });
      expect(r.code).toBe(1);
      expect(r.calls).toEqual([`systemctl start ${unit}`, `systemctl show -p NRestarts --value ${unit}`, `systemctl show -p Type --value ${unit}`, "sleep 0.25", `systemctl is-active --quiet ${unit}`]);
    });

    it("a unit that dies a moment after its start fails the run with its journal", async () => {
      const r = await runPlan(start(), { active: "yes yes no" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${unit} did not stay running:\njournal of ${unit}\n`);
      expect(r.calls.filter((c) => c === "sleep 0.25")).toHaveLength(3);
    });

    it("after a reload, old restarts do not count, new ones do", async () => {
      const ok = await runPlan(reload(), { nRestarts: "7" });
      expect(ok.code).toBe(0);
      expect(ok.calls[0]).toBe(`systemctl reload-or-restart ${unit}`);
      expect(ok.calls[1]).toBe(`systemctl show -p NRestarts --value ${unit}`);
      const restarted = await runPlan(reload(), { nRestarts: "7 7 8" });
      expect(restarted.code).toBe(1);
      expect(restarted.stderr).toBe(`${unit} did not stay running:\njournal of ${unit}\n`);
    });

    it("a started unit with a TCP ready port that answers: ready at once, no sleep at all", async () => {
      const r = await runPlan(start({ readyCheck: { port: port(tcp) } }));
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([`systemctl start ${unit}`, n0, ...check]);
    });

    it("a started unit with an HTTP ready port: an HTTP answer (400 to the probe) is ready, and no app code runs", async () => {
      let hits = 0;
      http.once("request", () => { hits++; });
      const r = await runPlan(start({ readyCheck: { port: port(http), http: true } }));
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([`systemctl start ${unit}`, n0, ...check]);
      expect(hits).toBe(0);
    });

    it("a unit that dies before its port answers fails the run with its journal", async () => {
      const r = await runPlan(start({ readyCheck: { port: closedPort } }), { active: "yes yes no" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${unit} stopped before it answered on 127.0.0.1:${closedPort}:\njournal of ${unit}\n`);
      expect(r.calls.filter((c) => c === "sleep 0.25")).toHaveLength(2);
    });

    it("an open port that gives no HTTP answer is not ready", async () => {
      const r = await runPlan(start({ readyCheck: { port: port(silent), http: true } }), { active: "yes no" });
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`${unit} stopped before it answered on 127.0.0.1:${port(silent)}:\njournal of ${unit}\n`);
    });

    it("after a reload with a ready port: watched first, then the port", async () => {
      const r = await runPlan(reload({ readyCheck: { port: port(tcp) } }), { nRestarts: "3" });
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([
        `systemctl reload-or-restart ${unit}`, `systemctl show -p NRestarts --value ${unit}`,
        `systemctl show -p Type --value ${unit}`, ...watch, ...check,
      ]);
    });

    it("a failing start is retried once, then shows the journal", async () => {
      const failing = start().replace(/systemctl start/g, "false");
      const r = await runPlan(failing);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`journal of ${unit}\n`);
      expect(r.calls).toEqual(["sleep 2"]);
    });
  });

  it("the generated scripts are valid bash", () => {
    for (const [, desired, observed, change] of cases) {
      const body = service.plan(desired, observed, change);
      if (body) execFileSync("bash", ["-n"], { input: body });
    }
  });
});

describe("systemdService: changes", () => {
  const base: service.ServiceState = { connection: conn, unit: "x.service", enabled: true, active: true, restartOn: { unit: "1", env: "2" }, reloadOn: { conf: "3" } };
  const cases: Array<[string, service.ServiceState | undefined, service.ServiceState, { restart: boolean; reload: boolean }]> = [
    ["create: both", undefined, base, { restart: true, reload: true }],
    ["identical: neither", base, { ...base }, { restart: false, reload: false }],
    ["same records in another key order: neither", base, { ...base, restartOn: { env: "2", unit: "1" } }, { restart: false, reload: false }],
    ["restartOn value changed", base, { ...base, restartOn: { unit: "1", env: "9" } }, { restart: true, reload: false }],
    ["restartOn key added", base, { ...base, restartOn: { unit: "1", env: "2", commit: "c" } }, { restart: true, reload: false }],
    ["reloadOn changed", base, { ...base, reloadOn: { conf: "4" } }, { restart: false, reload: true }],
    ["missing records equal empty ones", { ...base, restartOn: undefined, reloadOn: undefined }, { ...base, restartOn: {}, reloadOn: {} }, { restart: false, reload: false }],
    ["enabled flag alone is no restart or reload", base, { ...base, enabled: false }, { restart: false, reload: false }],
  ];
  for (const [name, olds, news, expected] of cases) {
    it(name, () => expect(service.changes(olds, news)).toEqual(expected));
  }

  it("diff: a new unit name replaces (delete first); a trigger change updates", async () => {
    expect(await service.diff("id", base, { ...base, unit: "y.service" })).toEqual({ changes: true, replaces: ["unit"], deleteBeforeReplace: true });
    expect(await service.diff("id", base, { ...base, reloadOn: { conf: "4" } })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    expect(await service.diff("id", base, { ...base })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });
});

describe("systemdService: what the running process has loaded", () => {
  const site = "/etc/nginx/sites-enabled/shop.conf";
  const unitFile = "/etc/systemd/system/shop-gunicorn.service";
  const S1 = "2026-12-05T08:00:00.000Z";
  const S2 = "2026-12-05T09:00:00.000Z";
  const loads: service.LoadedFile[] = [{ path: site, written: S1, then: "reload" }, { path: unitFile, written: S1, then: "restart" }];
  const base: service.ServiceState = { connection: conn, unit: "x.service", enabled: true, active: true, restartOn: {}, reloadOn: {}, loads };
  const none = { restart: false, reload: false };

  describe("fileChanges", () => {
    const cases: Array<[string, service.ServiceState | undefined, service.ServiceState, { restart: boolean; reload: boolean }]> = [
      ["same stamps: neither (the empty plan)", base, { ...base }, none],
      ["no files at all: neither", { ...base, loads: [] }, { ...base, loads: [] }, none],
      ["a reload file written again (drift repaired, same content): reload", base, { ...base, loads: [{ ...loads[0]!, written: S2 }, loads[1]!] }, { restart: false, reload: true }],
      ["a restart file written again: restart", base, { ...base, loads: [loads[0]!, { ...loads[1]!, written: S2 }] }, { restart: true, reload: false }],
      ["refresh found a file not loaded: its action", { ...base, loads: [{ ...loads[0]!, written: `${service.NOT_LOADED}: changed after the last reload` }, loads[1]!] }, base, { restart: false, reload: true }],
      ["a file the unit did not load before: its action", { ...base, loads: [loads[0]!] }, base, { restart: true, reload: false }],
      ["a file no longer loaded: nothing to load", base, { ...base, loads: [loads[0]!] }, none],
      ["state from older code (no loads), files with the upgrade's fixed stamp: nothing", { ...base, loads: undefined },
        { ...base, loads: loads.map((f) => ({ ...f, written: file.UNTRACKED })) }, none],
      ["state from older code, a file written in this run (it had drifted): its action", { ...base, loads: undefined },
        { ...base, loads: [{ ...loads[0]!, written: S2 }, { ...loads[1]!, written: file.UNTRACKED }] }, { restart: false, reload: true }],
      ["no recorded state (create): nothing here (create restarts anyway)", undefined, base, none],
      ["stamps still unknown (a preview before the write): reload", base, { ...base, loads: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" as unknown as service.LoadedFile[] }, { restart: false, reload: true }],
      ["older files without stamps on both sides: neither", { ...base, loads: [{ path: site, then: "reload" }] }, { ...base, loads: [{ path: site, then: "reload" }] }, none],
    ];
    for (const [name, olds, news, expected] of cases) {
      it(name, () => expect(service.fileChanges(olds, news)).toEqual(expected));
    }
  });

  it("changes() and diff(): a new stamp is an update that reloads; older state records its files once, acting on nothing", async () => {
    const rewritten = { ...base, loads: [{ ...loads[0]!, written: S2 }, loads[1]!] };
    expect(service.changes(base, rewritten)).toEqual({ restart: false, reload: true });
    expect((await service.diff("id", base, rewritten)).changes).toBe(true);
    expect((await service.diff("id", base, { ...base })).changes).toBe(false);
    const older = { ...base, loads: undefined };
    const upgraded = { ...base, loads: loads.map((f) => ({ ...f, written: file.UNTRACKED })) };
    expect((await service.diff("id", older, upgraded)).changes).toBe(true);
    expect(service.changes(older, upgraded)).toEqual(none);
    expect(service.plan(upgraded, { enabled: true, active: true }, service.changes(older, upgraded))).toBe("");
  });

  it("the probe reads times and files only when asked (refresh), in the same script", () => {
    expect(service.probeScript("x.service")).not.toContain("Timestamp");
    const body = service.probeScript("x.service", [...loads, { path: "/etc/fw.nft", then: "reload", check: "nft list table inet t" }]);
    expect(body).toContain("systemctl show -p ActiveEnterTimestamp -p StateChangeTimestamp --timestamp=unix");
    expect(body).toContain(`m=$(stat -c %Y -- ${site} 2>/dev/null || echo -); c=1; echo "file $m $c"`);
    expect(body).toContain(`if ( nft list table inet t ) >/dev/null 2>&1; then c=1; else c=0; fi`);
    expect(execFileSync("bash", ["-n"], { input: body }).toString()).toBe("");
  });

  describe("parseLoads", () => {
    const cases: Array<[string, string, service.ObservedLoads]> = [
      ["times and files", "enabled active\nActiveEnterTimestamp=@1700000000\nStateChangeTimestamp=@1700000100\nfile 1700000050 1\nfile - 1\nfile 1699999999 0\n",
        { startedAt: 1700000000, changedAt: 1700000100, files: [{ mtime: 1700000050, checked: true }, { checked: true }, { mtime: 1699999999, checked: false }] }],
      ["a unit never started: no times", "disabled inactive\nActiveEnterTimestamp=\nStateChangeTimestamp=\nfile 5 1\n",
        { startedAt: undefined, changedAt: undefined, files: [{ mtime: 5, checked: true }] }],
      ["no files asked for", "enabled active\n", { startedAt: undefined, changedAt: undefined, files: [] }],
    ];
    for (const [name, stdout, expected] of cases) {
      it(name, () => expect(service.parseLoads(stdout)).toEqual(expected));
    }
    it("the first line still parses as the unit's state", () => {
      expect(service.parseProbe("enabled active\nActiveEnterTimestamp=@1\nfile 1 1\n")).toEqual({ enabled: true, active: true });
    });
  });

  describe("notLoaded", () => {
    const at = (mtime: number | undefined, checked = true) => ({ ...(mtime === undefined ? {} : { mtime }), checked });
    const stale = (f: service.LoadedFile, reason: string) => ({ ...f, written: `${service.NOT_LOADED}: ${reason}` });
    const [r, x] = loads as [service.LoadedFile, service.LoadedFile];
    const cases: Array<[string, boolean, service.ObservedLoads, service.LoadedFile[]]> = [
      ["both older than the last reload and start: loaded (the empty plan)", true, { startedAt: 100, changedAt: 200, files: [at(150), at(90)] }, loads],
      ["written in the second of the reload: loaded", true, { startedAt: 100, changedAt: 200, files: [at(200), at(100)] }, loads],
      ["site edited after the last reload", true, { startedAt: 100, changedAt: 200, files: [at(201), at(90)] }, [stale(r, "changed after the last reload"), x]],
      ["unit file newer than the start, though a reload came later: a restart file wants a start", true, { startedAt: 100, changedAt: 200, files: [at(150), at(150)] },
        [r, stale(x, "changed after the last restart")]],
      ["a check that fails (the loaded table differs)", true, { startedAt: 100, changedAt: 200, files: [at(150, false), at(90)] }, [stale(r, "the running state differs from the file"), x]],
      ["a stopped unit: left alone (it is started anyway)", false, { startedAt: 100, changedAt: 200, files: [at(300), at(300)] }, loads],
      ["a missing file: left alone (its RemoteFile writes it)", true, { startedAt: 100, changedAt: 200, files: [at(undefined), at(90)] }, loads],
      ["no times at all (never started): not loaded", true, { files: [at(1), at(1)] }, [stale(r, "changed after the last reload"), stale(x, "changed after the last restart")]],
      ["no files", true, { startedAt: 100, changedAt: 200, files: [] }, []],
    ];
    for (const [name, active, observed, expected] of cases) {
      it(name, () => expect(service.notLoaded(name === "no files" ? [] : loads, active, observed)).toEqual(expected));
    }
    it("a file refresh marks not loaded makes the next up reload it", () => {
      const refreshed = { ...base, loads: service.notLoaded(loads, true, { startedAt: 100, changedAt: 200, files: [at(201), at(90)] }) };
      expect(service.changes(refreshed, base)).toEqual({ restart: false, reload: true });
    });
  });
});

describe("postgresDatabase", () => {
  it("parseProbe reads role, database and PUBLIC-CONNECT counts", () => {
    expect(db.parseProbe("1 1 0\n")).toEqual({ roleExists: true, databaseExists: true, publicConnect: false });
    expect(db.parseProbe("1 1 1\n")).toEqual({ roleExists: true, databaseExists: true, publicConnect: true });
    expect(db.parseProbe("0 1 1\n")).toEqual({ roleExists: false, databaseExists: true, publicConnect: true });
    expect(db.parseProbe("1 0 0")).toEqual({ roleExists: true, databaseExists: false, publicConnect: false });
    expect(db.parseProbe("  0 0 0  \n")).toEqual({ roleExists: false, databaseExists: false, publicConnect: false });
  });

  it("parseProbe throws on anything else", () => {
    expect(() => db.parseProbe("psql: error: connection refused\n")).toThrow('unexpected database probe output: "psql: error: connection refused"');
    expect(() => db.parseProbe("")).toThrow('unexpected database probe output: ""');
    expect(() => db.parseProbe("1\n1")).toThrow('unexpected database probe output: "1\\n1"');
    // The two-count output of the probe before PUBLIC's CONNECT was counted.
    expect(() => db.parseProbe("1 1\n")).toThrow('unexpected database probe output: "1 1"');
  });

  const sqlCases: Array<[string, string]> = [
    ["plain", "'plain'"],
    ["it's", "'it''s'"],
    ["''", "''''''"],
    ["back\\slash", "'back\\slash'"],
    ["", "''"],
  ];
  for (const [value, expected] of sqlCases) {
    it(`sqlLiteral(${JSON.stringify(value)})`, () => expect(sqlLiteral(value)).toBe(expected));
  }

  it("probeScript counts the role, the database, and the database if PUBLIC may connect to it", () => {
    expect(db.probeScript({ database: "shop", owner: "shop_user" })).toBe([
      'if ! id postgres >/dev/null 2>&1; then echo "0 0 0"; exit 0; fi',
      "cd /",
      "runuser -u postgres -- psql -XAtq -v ON_ERROR_STOP=1 <<'FLEET_EOF'",
      "SELECT (SELECT count(*) FROM pg_roles WHERE rolname = 'shop_user') || ' ' || "
        + "(SELECT count(*) FROM pg_database WHERE datname = 'shop') || ' ' || "
        + "(SELECT count(*) FROM pg_database WHERE datname = 'shop' AND has_database_privilege('public', datname, 'CONNECT'));",
      "FLEET_EOF",
    ].join("\n") + "\n");
  });

  const desired: db.DatabaseState = { connection: conn, database: "shop", owner: "shop_user", password: "pa'ss" };
  const psql = "runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 <<'FLEET_EOF'";
  const createdb = "runuser -u postgres -- createdb -O shop_user -E UTF8 -T template0 shop";
  // Only the owner may connect: a new database (PUBLIC may connect to it) gets CONNECT revoked.
  const revoke = [psql, 'REVOKE CONNECT ON DATABASE "shop" FROM PUBLIC;', "FLEET_EOF"];
  const cases: Array<[string, db.ObservedDatabase, boolean, string[] | ""]> = [
    ["role and database missing", { roleExists: false, databaseExists: false, publicConnect: false }, true,
      [psql, "CREATE ROLE \"shop_user\" LOGIN PASSWORD 'pa''ss';", "FLEET_EOF", createdb, ...revoke]],
    ["role missing (password flag irrelevant)", { roleExists: false, databaseExists: true, publicConnect: false }, false,
      [psql, "CREATE ROLE \"shop_user\" LOGIN PASSWORD 'pa''ss';", "FLEET_EOF"]],
    ["role missing, and PUBLIC may connect", { roleExists: false, databaseExists: true, publicConnect: true }, false,
      [psql, "CREATE ROLE \"shop_user\" LOGIN PASSWORD 'pa''ss';", "FLEET_EOF", ...revoke]],
    ["database missing", { roleExists: true, databaseExists: false, publicConnect: false }, false, [createdb, ...revoke]],
    ["both present and isolated, password unchanged", { roleExists: true, databaseExists: true, publicConnect: false }, false, ""],
    ["both present, PUBLIC may connect (a database made before, or a grant put back)", { roleExists: true, databaseExists: true, publicConnect: true }, false, revoke],
    ["both present, password changed", { roleExists: true, databaseExists: true, publicConnect: false }, true,
      [psql, "ALTER ROLE \"shop_user\" WITH LOGIN PASSWORD 'pa''ss' VALID UNTIL 'infinity';", "FLEET_EOF"]],
    ["both present, password changed and PUBLIC may connect", { roleExists: true, databaseExists: true, publicConnect: true }, true,
      [psql, "ALTER ROLE \"shop_user\" WITH LOGIN PASSWORD 'pa''ss' VALID UNTIL 'infinity';", "FLEET_EOF", ...revoke]],
  ];
  for (const [name, observed, passwordChanged, expected] of cases) {
    it(`plan: ${name}`, () => {
      expect(db.plan(desired, observed, passwordChanged)).toBe(expected === "" ? "" : expected.join("\n") + "\n");
    });
  }

  it("check rejects names that are not identifiers", async () => {
    expect((await db.check(undefined, desired)).failures).toEqual([]);
    expect((await db.check(undefined, { ...desired, database: "Shop", owner: "a-b" })).failures).toEqual([
      { property: "database", reason: 'must match /^[a-z_][a-z0-9_]{0,62}$/, got "Shop"' },
      { property: "owner", reason: 'must match /^[a-z_][a-z0-9_]{0,62}$/, got "a-b"' },
    ]);
  });

  it("diff: a new password updates; a new name replaces, never deleting first", async () => {
    expect(await db.diff("id", desired, { ...desired })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await db.diff("id", desired, { ...desired, password: "new" })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(await db.diff("id", desired, { ...desired, database: "shop2" })).toEqual({ changes: true, replaces: ["database"], deleteBeforeReplace: false });
    // A database dropped by hand (read shows ""): recreate in place, not replace.
    expect(await db.diff("id", { ...desired, database: "" }, desired)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });

  it("diff: a state made before isolation (no isolated), or one refresh read as not isolated, updates in place", async () => {
    const isolated = { ...desired, isolated: true };
    expect(await db.diff("id", isolated, { ...isolated })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
    expect(await db.diff("id", desired, isolated)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
    expect(await db.diff("id", { ...isolated, isolated: false }, isolated)).toEqual({ changes: true, replaces: [], deleteBeforeReplace: false });
  });
});

describe("remoteScript: withSecrets", () => {
  it("puts secrets first, as heredoc variable assignments sorted by name", () => {
    expect(step.withSecrets("echo done", { ZED: "z", ALPHA: "it's $x", MID_1: "m" })).toBe([
      "ALPHA=$(cat <<'FLEET_EOF'", "it's $x", "FLEET_EOF", ")",
      "MID_1=$(cat <<'FLEET_EOF'", "m", "FLEET_EOF", ")",
      "ZED=$(cat <<'FLEET_EOF'", "z", "FLEET_EOF", ")",
      "echo done",
    ].join("\n") + "\n");
  });

  it("without secrets it is the body alone", () => {
    expect(step.withSecrets("echo done")).toBe("echo done\n");
    expect(step.withSecrets("echo done\n", {})).toBe("echo done\n\n");
  });

  const badNames = ["db-pass", "lower", "1ST", "A B", "$(id)", ""];
  for (const name of badNames) {
    it(`rejects the variable name ${JSON.stringify(name)}`, () => {
      expect(() => step.withSecrets("true", { [name]: "v" })).toThrow(`secret name ${JSON.stringify(name)} is not a shell variable name`);
    });
  }

  it("bash sees every secret exactly (run locally)", () => {
    const secrets = { B_PW: "p'a$s`w\"o\\rd $(id)", A_PW: "FLEET_EOF", C_PW: "two\nlines" };
    const out = bash(step.withSecrets(`printf '%s|' "$A_PW" "$B_PW" "$C_PW"`, secrets));
    expect(out).toBe("FLEET_EOF|p'a$s`w\"o\\rd $(id)|two\nlines|");
  });
});

describe("remoteScript: diff", () => {
  const olds: step.ScriptState = {
    connection: conn, create: "echo hi\n", check: "test -e /x\n", inSync: true, triggers: { commit: "abc", env: "123" }, secrets: { PW: "one" }, description: "x",
  };
  const cases: Array<[string, step.ScriptState, boolean, string[]]> = [
    ["identical", { ...olds, triggers: { env: "123", commit: "abc" }, secrets: { PW: "one" } }, false, []],
    ["a trigger changed", { ...olds, triggers: { commit: "def", env: "123" } }, true, []],
    ["a trigger added", { ...olds, triggers: { commit: "abc", env: "123", more: "1" } }, true, []],
    ["a trigger removed", { ...olds, triggers: { commit: "abc" } }, true, []],
    ["a secret changed", { ...olds, secrets: { PW: "two" } }, true, []],
    ["a secret renamed", { ...olds, secrets: { PASSWORD: "one" } }, true, []],
    ["the script changed", { ...olds, create: "echo bye\n" }, true, []],
    ["a delete script added", { ...olds, delete: "rm -f x\n" }, true, []],
    ["the check script changed", { ...olds, check: "test -e /y\n" }, true, []],
    ["only the description changed", { ...olds, description: "y" }, false, []],
    ["another host", { ...olds, connection: { ...conn, host: "10.0.0.6" } }, true, ["connection"]],
  ];
  for (const [name, news, changes, replaces] of cases) {
    it(name, async () => {
      expect(await step.diff("id", olds, news)).toEqual({ changes, replaces, deleteBeforeReplace: true });
    });
  }

  it("a refresh that found the step undone (inSync false in state) re-runs it", async () => {
    expect(await step.diff("id", { ...olds, inSync: false }, { ...olds, inSync: true })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
  });

  it("the check script runs with the secrets, like the step (run locally)", () => {
    expect(() => bash(step.withSecrets('[ "$PW" = one ]', { PW: "one" }))).not.toThrow();
    expect(() => bash(step.withSecrets('[ "$PW" = one ]', { PW: "two" }))).toThrow();
  });

  it("missing triggers and secrets equal empty ones", async () => {
    const bare: step.ScriptState = { connection: conn, create: "true\n" };
    expect(await step.diff("id", bare, { ...bare, triggers: {}, secrets: {} })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
  });
});

describe("randomSecret", () => {
  it("generate: length and alphabet", () => {
    for (const n of [0, 1, 16, 50, 256]) {
      const v = secret.generate(n);
      expect(v).toHaveLength(n);
      expect(v).toMatch(/^[A-Za-z0-9]*$/);
    }
    expect(secret.generate(200, "ab")).toMatch(/^[ab]{200}$/);
    expect(secret.generate(5, "z")).toBe("zzzzz");
    expect(secret.ALNUM).toBe("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
  });

  it("generate: values differ and use the whole alphabet", () => {
    const a = secret.generate(64);
    const b = secret.generate(64);
    expect(a).not.toBe(b);
    const seen = new Set(secret.generate(5000));
    expect(seen.size).toBe(62);
  });

  const checks: Array<[string, number, string | undefined]> = [
    ["16 is the minimum", 16, undefined],
    ["256 is the maximum", 256, undefined],
    ["15 is too short", 15, "must be a whole number from 16 to 256, got 15"],
    ["257 is too long", 257, "must be a whole number from 16 to 256, got 257"],
    ["fractions are refused", 16.5, "must be a whole number from 16 to 256, got 16.5"],
    ["NaN is refused", Number.NaN, "must be a whole number from 16 to 256, got NaN"],
  ];
  for (const [name, length, reason] of checks) {
    it(`check: ${name}`, async () => {
      const r = await secret.check(undefined, { length });
      expect(r.inputs).toEqual({ length });
      expect(r.failures).toEqual(reason ? [{ property: "length", reason }] : []);
    });
  }

  it("create: a value of the asked length and an id", async () => {
    const r = await secret.create({ length: 32 });
    expect(r.outs.length).toBe(32);
    expect(r.outs.value).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(r.id).toMatch(/^secret-[A-Za-z0-9]{8}$/);
  });

  const diffs: Array<[string, secret.SecretState, secret.SecretState, boolean, string[]]> = [
    ["same length, no value yet in news", { length: 32, value: "old" }, { length: 32 }, false, []],
    ["length changed → replace", { length: 32, value: "old" }, { length: 50 }, true, ["length"]],
    ["default alphabet spelled out → no change", { length: 32 }, { length: 32, alphabet: secret.ALNUM }, false, []],
    ["alphabet changed → replace", { length: 32 }, { length: 32, alphabet: "ab" }, true, ["alphabet"]],
  ];
  for (const [name, olds, news, changes, replaces] of diffs) {
    it(`diff: ${name}`, async () => {
      expect(await secret.diff("id", olds, news)).toEqual({ changes, replaces, deleteBeforeReplace: false });
    });
  }

  it("update keeps the old value", async () => {
    expect(await secret.update("id", { length: 32, value: "kept" }, { length: 32 })).toEqual({ outs: { length: 32, value: "kept" } });
  });
});
