/**
 * The release scripts (lib/releaseBuild.ts, releaseCurrent.ts, healthGate.ts, nginxDrain.ts,
 * releaseShared.ts) and the switch's plan
 * (providers/releaseSwitch.ops.ts). The drain, prune and health-gate scripts are RUN here
 * with bash, against temporary folders and small stand-ins for nginx, systemctl, curl and
 * journalctl on PATH, so what is asserted is what the scripts do, not only their text.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { releaseId, releasePaths } from "../../components/paths.ts";
import type { PythonProject } from "../../config/pythonProject.ts";
import { ALREADY_BUILT, buildScript, seedVenvCommands } from "../../lib/releaseBuild.ts";
import { linkCommands, pruneCommands } from "../../lib/releaseCurrent.ts";
import { GATE_RESPONSE, healthGateScript } from "../../lib/healthGate.ts";
import { drainScript, drainedProbe } from "../../lib/nginxDrain.ts";
import { sharedPathOf } from "../../lib/releaseShared.ts";
import { script } from "../../lib/shell.ts";
import { sideGateScript } from "../../lib/sideGate.ts";
import { sideGateWanted, switchPlan, type SwitchState } from "../../providers/releaseSwitch.ops.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "fleet-releases-"));
  DIRS.push(d);
  return d;
}

/** A folder of stand-in commands; each logs its arguments to `calls`. */
function shims(bodies: Record<string, string>): { path: string; calls: () => string[] } {
  const dir = tempDir();
  const log = join(dir, "calls");
  writeFileSync(log, "");
  for (const [name, body] of Object.entries(bodies)) {
    const f = join(dir, name);
    writeFileSync(f, `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
    chmodSync(f, 0o755);
  }
  return { path: `${dir}:${process.env.PATH}`, calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

function bash(body: string, path: string): { code: number; stdout: string; stderr: string } {
  // `runuser -u shop -- CMD...` runs CMD as the test's own user (there is no shop here).
  const shim = 'runuser() { shift 3; "$@"; }\n';
  const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: shim + body, encoding: "utf8", env: { ...process.env, PATH: path } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const COMMIT_A = "3f2a1c0e9b7d4c2a1f0e9d8c7b6a5f4e3d2c1b0a";
const COMMIT_B = "9b7e44d0a1c2b3d4e5f60718293a4b5c6d7e8f90";

describe("drain and undrain on the load balancer", () => {
  const SITE = [
    "upstream shop_app {",
    "    server 10.0.0.11:8000 max_fails=3 fail_timeout=10s;",
    "    server 10.0.0.12:8000 max_fails=3 fail_timeout=10s;",
    "    keepalive 16;",
    "}",
    "",
  ].join("\n");
  const setup = () => {
    const dir = tempDir();
    const site = join(dir, "shop.conf");
    writeFileSync(site, SITE);
    const s = shims({ nginx: "exit 0", systemctl: "exit 0" });
    return { site, ...s };
  };

  it("takes node 1 out with `down` and a graceful reload, and puts it back byte for byte", () => {
    const { site, path, calls } = setup();
    const node1 = { site, server: "10.0.0.11:8000" };
    const out = bash(drainScript(node1, true), path);
    expect(out).toMatchObject({ code: 0, stdout: "drained\n" });
    expect(readFileSync(site, "utf8")).toContain("    server 10.0.0.11:8000 max_fails=3 fail_timeout=10s down;\n    server 10.0.0.12:8000 max_fails=3 fail_timeout=10s;\n");
    expect(calls()).toEqual(["nginx -t -q", "systemctl reload nginx"]);
    expect(bash(drainedProbe(node1), path).stdout).toBe("down\n");
    expect(bash(drainedProbe({ site, server: "10.0.0.12:8000" }), path).stdout).toBe("up\n");

    // Again: nothing to do, no reload.
    expect(bash(drainScript(node1, true), path).stdout).toBe("drained\n");
    expect(calls()).toHaveLength(2);

    expect(bash(drainScript(node1, false), path)).toMatchObject({ code: 0, stdout: "undrained\n" });
    expect(readFileSync(site, "utf8")).toBe(SITE);
    expect(calls()).toEqual(["nginx -t -q", "systemctl reload nginx", "nginx -t -q", "systemctl reload nginx"]);
    expect(bash(drainedProbe(node1), path).stdout).toBe("up\n");
  });

  it("never takes out the last node still in rotation", () => {
    const { site, path, calls } = setup();
    expect(bash(drainScript({ site, server: "10.0.0.11:8000" }, true), path).stdout).toBe("drained\n");
    expect(bash(drainScript({ site, server: "10.0.0.12:8000" }, true), path).stdout).toBe("the only node in rotation: not drained\n");
    expect(readFileSync(site, "utf8")).toContain("    server 10.0.0.12:8000 max_fails=3 fail_timeout=10s;\n");
    expect(calls()).toHaveLength(2);
  });

  it("a node the site does not list yet (a new node) or a missing site is left alone", () => {
    const { site, path, calls } = setup();
    expect(bash(drainScript({ site, server: "10.0.0.13:8000" }, true), path).stdout).toBe("not in the load balancer\n");
    expect(bash(drainScript({ site: `${site}.missing`, server: "10.0.0.11:8000" }, true), path).stdout).toBe("not in the load balancer\n");
    // 10.0.0.1:8000 is a prefix of no listed server: the dots are not wildcards either.
    expect(bash(drainScript({ site, server: "10.0.0.1:8000" }, true), path).stdout).toBe("not in the load balancer\n");
    expect(bash(drainScript({ site, server: "10a0a0a11:8000" }, true), path).stdout).toBe("not in the load balancer\n");
    expect(readFileSync(site, "utf8")).toBe(SITE);
    expect(calls()).toEqual([]);
  });
});

describe("keeping the last releases", () => {
  /** A fake /srv/shop with releases r1..r5, used in that order; `current` at `cur`. */
  function tree(cur: string) {
    const root = tempDir();
    mkdirSync(join(root, "releases"));
    const names = ["r1", "r2", "r3", "r4", "r5"];
    names.forEach((n, i) => {
      mkdirSync(join(root, "releases", n));
      const used = join(root, "releases", n, ".django-fleet-used");
      writeFileSync(used, "");
      const t = new Date(Date.UTC(2026, 0, 1 + i));
      utimesSync(used, t, t);
    });
    symlinkSync(`releases/${cur}`, join(root, "current"));
    return root;
  }
  const prune = (root: string, keep: number) => bash(script(...pruneCommands("shop", keep)).replaceAll("/srv/shop", root), process.env.PATH!);
  const left = (root: string) => readdirSync(join(root, "releases")).sort();

  it("keeps the current release and the most recently used others, up to keepReleases", () => {
    const root = tree("r5");
    expect(prune(root, 3).code).toBe(0);
    expect(left(root)).toEqual(["r3", "r4", "r5"]);
  });

  it("after a rollback to an older release, the ones rolled back from are kept", () => {
    const root = tree("r2");
    expect(prune(root, 3).code).toBe(0);
    expect(left(root)).toEqual(["r2", "r4", "r5"]);
  });

  it("keepReleases 1 keeps only the current one", () => {
    const root = tree("r3");
    expect(prune(root, 1).code).toBe(0);
    expect(left(root)).toEqual(["r3"]);
  });

  it("the link moves by rename, only onto a built release, and marks it used", () => {
    const root = tempDir();
    const rel = (c: string) => join(root, "releases", releaseId(c));
    mkdirSync(rel(COMMIT_A), { recursive: true });
    mkdirSync(rel(COMMIT_B), { recursive: true });
    writeFileSync(join(rel(COMMIT_A), ".django-fleet-built"), "");
    const link = (c: string) => bash(script(...linkCommands("shop", c)).replaceAll("/srv/shop", root), process.env.PATH!);
    expect(link(COMMIT_A).code).toBe(0);
    expect(readlinkSync(join(root, "current"))).toBe(`releases/${releaseId(COMMIT_A)}`);
    expect(readdirSync(rel(COMMIT_A))).toContain(".django-fleet-used");
    const notBuilt = link(COMMIT_B);
    expect(notBuilt.code).toBe(1);
    expect(notBuilt.stderr).toContain(`release ${releaseId(COMMIT_B)} of shop is not built on this host`);
    expect(readlinkSync(join(root, "current"))).toBe(`releases/${releaseId(COMMIT_A)}`);
  });
});

describe("the health gate", () => {
  const gate = (status?: number, timeoutSeconds = 3) => healthGateScript({
    unit: "shop-gunicorn.service", url: "http://10.0.0.11:8000/healthz", hostHeader: "10.0.0.11", timeoutSeconds,
    ...(status !== undefined ? { status } : {}),
  });
  /** curl answers the codes in `codes` one per call (the last one from then on); systemd reports `restarts`. */
  function node(codes: string[], restarts = "0") {
    const dir = tempDir();
    writeFileSync(join(dir, "codes"), codes.join("\n") + "\n");
    return shims({
      curl: [
        `n=$(cat ${dir}/n 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/n`,
        `code=$(sed -n "$((n + 1))p" ${dir}/codes); [ -n "$code" ] || code=$(tail -n 1 ${dir}/codes)`,
        `while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "body of $code" > "$2"; fi; shift; done`,
        `printf %s "$code"`,
      ].join("\n"),
      systemctl: `case "$1" in is-failed) exit 1;; show) echo ${restarts};; esac`,
      journalctl: 'echo "Traceback: ImportError: no module named shop"',
    });
  }

  it("passes as soon as the node answers 2xx, asking with the node's address as Host", () => {
    const s = node(["000", "502", "200"]);
    const r = bash(gate(), s.path);
    expect(r).toMatchObject({ code: 0, stdout: "healthy: HTTP 200\n" });
    const curls = s.calls().filter((c) => c.startsWith("curl "));
    expect(curls).toHaveLength(3);
    expect(curls[0]).toContain("-H Host: 10.0.0.11");
    expect(curls[0]).toContain("-- http://10.0.0.11:8000/healthz");
  });

  it("with an expected status, another 2xx does not pass; the last response and the journal are printed", () => {
    const s = node(["204"]);
    const r = bash(gate(200, 1), s.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${GATE_RESPONSE} GET http://10.0.0.11:8000/healthz: HTTP 204 body of 204`);
    expect(r.stdout).toContain("Traceback: ImportError: no module named shop");
  });

  it("a 500 fails at the timeout", () => {
    const s = node(["500"]);
    const r = bash(gate(undefined, 2), s.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("HTTP 500 body of 500");
    // It kept asking until the timeout (at least a second at 0.5 s a try).
    expect(s.calls().filter((c) => c.startsWith("curl ")).length).toBeGreaterThanOrEqual(2);
  });

  it("a unit systemd had to restart (an app that cannot import) fails at once, not at the timeout", () => {
    const s = node(["000"], "1");
    const r = bash(gate(undefined, 600), s.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${GATE_RESPONSE} GET http://10.0.0.11:8000/healthz: no answer`);
    expect(s.calls().filter((c) => c.startsWith("curl "))).toHaveLength(1);
  });
});

describe("the side gate: the release checked beside the running one, before any restart", () => {
  const side = (status?: number, timeoutSeconds = 3) => sideGateScript({
    app: "shop", release: COMMIT_B, envFile: "/etc/shop/env", wsgiModule: "shop.wsgi:application", configFile: "/etc/shop/gunicorn.conf.py",
    url: "http://127.0.0.1:8000/healthz", hostHeader: "10.0.0.11", timeoutSeconds, ...(status !== undefined ? { status } : {}),
  });
  /** curl answers `codes` one per call (the last from then on); the side instance dies after `diesAfter` curls. */
  function host(codes: string[], diesAfter = Infinity) {
    const dir = tempDir();
    writeFileSync(join(dir, "codes"), codes.join("\n") + "\n");
    return shims({
      curl: [
        `n=$(cat ${dir}/n 2>/dev/null || echo 0); echo $((n + 1)) > ${dir}/n`,
        `code=$(sed -n "$((n + 1))p" ${dir}/codes); [ -n "$code" ] || code=$(tail -n 1 ${dir}/codes)`,
        `while [ $# -gt 0 ]; do if [ "$1" = -o ]; then echo "body of $code" > "$2"; fi; shift; done`,
        `printf %s "$code"`,
      ].join("\n"),
      "systemd-run": "exit 0",
      systemctl: `case "$1" in is-active) [ "$(cat ${dir}/n 2>/dev/null || echo 0)" -lt ${Number.isFinite(diesAfter) ? diesAfter : 1_000_000} ];; *) exit 0;; esac`,
      journalctl: 'echo "[ERROR] Exception in worker process: DisallowedHost"',
    });
  }

  it("starts the release's own gunicorn as the app user on a Unix socket, one worker, passes on 2xx, and stops it", () => {
    const s = host(["000", "200"]);
    const r = bash(side(), s.path);
    expect(r).toMatchObject({ code: 0, stdout: "healthy beside the running release: HTTP 200\n" });
    const calls = s.calls();
    const run = calls.find((c) => c.startsWith("systemd-run "))!;
    for (const part of [
      "--unit=shop-gunicorn-gate.service", "-p User=shop -p Group=shop", "-p EnvironmentFile=/etc/shop/env",
      `-p WorkingDirectory=/srv/shop/releases/${releaseId(COMMIT_B)}/source`, "-p RuntimeDirectory=shop-gate",
      `-- /srv/shop/releases/${releaseId(COMMIT_B)}/venv/bin/gunicorn --config /etc/shop/gunicorn.conf.py --bind unix:/run/shop-gate/gunicorn.sock --workers 1 shop.wsgi:application`,
    ]) expect(run).toContain(part);
    const curls = calls.filter((c) => c.startsWith("curl "));
    expect(curls[0]).toContain("--unix-socket /run/shop-gate/gunicorn.sock -H Host: 10.0.0.11");
    expect(curls[0]).toContain("-- http://127.0.0.1:8000/healthz");
    // A leftover of an interrupted run is stopped first; the instance is stopped at the end.
    expect(calls[0]).toBe("systemctl stop shop-gunicorn-gate.service");
    expect(calls.at(-1)).toBe("systemctl stop shop-gunicorn-gate.service");
  });

  it("a 500 fails at the timeout with the response and the instance's journal, and still stops it", () => {
    const s = host(["500"]);
    const r = bash(side(undefined, 1), s.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${GATE_RESPONSE} GET http://127.0.0.1:8000/healthz (the release started beside the running one): HTTP 500 body of 500`);
    expect(r.stdout).toContain("DisallowedHost");
    expect(s.calls().at(-1)).toBe("systemctl stop shop-gunicorn-gate.service");
  });

  it("an instance that dies (a release that cannot import) fails at once, not at the timeout", () => {
    const s = host(["000"], 1);
    const r = bash(side(undefined, 600), s.path);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("(the release started beside the running one): no answer");
    expect(s.calls().filter((c) => c.startsWith("curl "))).toHaveLength(1);
  });

  it.each([
    ["the only node in rotation, running a release -> checked beside", "the only node in rotation: not drained", "3f2a1c0e9b7d", true, true],
    ["no load balancer -> checked beside", "no load balancer", "3f2a1c0e9b7d", true, true],
    ["a node the site does not list yet -> checked beside", "not in the load balancer", "3f2a1c0e9b7d", true, true],
    ["drained: no request reaches it, the gate after the restart is enough", "drained", "3f2a1c0e9b7d", true, false],
    ["nothing runs there yet (a new host): nothing to protect", "the only node in rotation: not drained", "", true, false],
    ["a switch recorded before the side gate existed", "the only node in rotation: not drained", "3f2a1c0e9b7d", false, false],
  ] as const)("%s", (_what, drained, previous, hasSide, want) => {
    expect(sideGateWanted(drained, previous, hasSide)).toBe(want);
  });
});

describe("the switch's plan", () => {
  const base: SwitchState = {
    connection: { host: "10.0.0.11", hostKey: "ssh-ed25519 AAAA", privateKey: "k" },
    app: "shop", release: releaseId(COMMIT_B), unit: "shop-gunicorn.service", restartOn: { env: "e1" },
    health: { url: "http://10.0.0.11:8000/", hostHeader: "10.0.0.11", timeoutSeconds: 60 }, keepReleases: 3, inService: true,
  };
  const A = releaseId(COMMIT_A);
  const B = releaseId(COMMIT_B);
  it.each([
    ["create, the node already runs the release (first deploy: the build made current) -> gate", "gate", undefined, base, B],
    ["create, the node runs another release (an upgrade) -> switch", "switch", undefined, base, A],
    ["a new release -> switch", "switch", { ...base, release: A }, base, A],
    ["a new env file -> switch", "switch", { ...base, restartOn: { env: "e0" } }, base, B],
    ["a new unit file -> switch (gated, node by node)", "switch", base, { ...base, restartOn: { env: "e1", "shop-gunicorn.service": "u1" } }, B],
    ["current switched by hand (refresh recorded it) -> switch", "switch", { ...base, release: A }, base, A],
    ["an interrupted switch: current moved, state still the old release -> switch", "switch", { ...base, release: A }, base, B],
    ["left drained by an interrupted run -> undrain", "undrain", { ...base, inService: false }, base, B],
    ["only keepReleases changed -> none", "none", { ...base, keepReleases: 5 }, base, B],
  ] as const)("%s", (_what, want, olds, news, observed) => {
    expect(switchPlan(olds, news, observed)).toBe(want);
  });
});

describe("building a release", () => {
  const PIP: PythonProject = { method: "pip", reason: "requirements.txt", requirementsFile: "requirements.txt", requireHashes: false } as PythonProject;
  const body = buildScript({ app: "shop", repo: "https://git.example/shop.git", commit: COMMIT_B, project: PIP, install: { groups: [], extras: [] } });
  const r = releasePaths("shop", COMMIT_B);
  const lines = body.split("\n");
  const at = (needle: string) => lines.findIndex((l) => l.includes(needle));

  it("skips git and pip for a release built before (a rollback), saying so", () => {
    expect(at(ALREADY_BUILT)).toBeGreaterThanOrEqual(0);
    expect(at(ALREADY_BUILT)).toBeLessThan(at("fetch --quiet"));
  });
  it("works in the release's own folder and writes the marker after the virtualenv", () => {
    const cdSource = lines.indexOf(`cd ${r.source}`);
    expect(cdSource).toBeGreaterThan(at("git clone"));
    expect(at(`${r.venv}/bin/pip install`)).toBeGreaterThan(cdSource);
    expect(at(`/dev/null ${r.builtMarker}`)).toBeGreaterThan(at(`${r.venv}/bin/pip install`));
  });
  // The scripts the app user runs (`runuser -u shop -- env -i ... bash -euo pipefail -c '...'`), unquoted.
  const asShop = [...body.matchAll(/runuser -u shop -- env -i [^']*?bash -euo pipefail -c '((?:[^']|'\\'')*)'/g)].map((m) => m[1]!.replaceAll("'\\''", "'"));
  it("points current at it only when there is no current yet, as the app user", () => {
    const used = `/srv/shop/releases/${releaseId(COMMIT_B)}/.django-fleet-used`;
    expect(asShop.at(-1)).toBe(`install -m 0644 /dev/null ${r.builtMarker}\ncd /srv/shop\n`
      + `if [ ! -e current ]; then ln -sfn -- releases/${releaseId(COMMIT_B)} current; { touch -- ${used} 2>/dev/null || { rm -f -- ${used} && touch -- ${used}; }; }; fi`);
    expect(body.match(/ln -sfn/g)).toHaveLength(1);
  });
  it("root changes nothing inside /srv/shop: every rm, install, ln, touch, cp or sed there runs as the app user", () => {
    // Root reads (tests, cd, git's answers through runuser); whatever writes is the app user's.
    const writes = /(?:^|[;&|]\s*|\bthen\s+|\belse\s+)(?:rm|install|chown|chmod|ln|touch|mv|cp|sed)\s/;
    const rootPart = (b: string) => b
      .replace(/runuser -u shop -- env -i [^']*?bash -euo pipefail -c '(?:[^']|'\\'')*'/g, "APP_SCRIPT")
      .replace(/runuser -u shop -- (?:env -i (?:\S+=\S+ )+)?/g, "AS_APP ")
      .split("\n").filter((l) => l.includes("/srv/shop") && writes.test(l));
    expect(asShop.length).toBeGreaterThanOrEqual(3);
    expect(rootPart(body)).toEqual([]);
    // The check can fail: the build before issue 21 removed the old release as root.
    expect(rootPart("if [ x ]; then rm -rf -- /srv/shop/releases/x; fi\nrunuser -u shop -- rm -f /srv/shop/x")).toEqual(["if [ x ]; then rm -rf -- /srv/shop/releases/x; fi"]);
  });
  it("links and prunes as the app user", () => {
    for (const b of [script(...linkCommands("shop", COMMIT_B)), script(...pruneCommands("shop", 3))]) {
      expect(b.startsWith("runuser -u shop -- env -i HOME=/srv/shop PATH=/usr/local/bin:/usr/bin:/bin bash -euo pipefail -c ")).toBe(true);
    }
  });
  it("passes bash -n", () => {
    const r2 = spawnSync("bash", ["-n"], { input: body, encoding: "utf8" });
    expect(r2.status).toBe(0);
  });
});

describe("a new release's virtualenv starts as a copy of the running one", () => {
  /** A fake /srv/shop whose current release A has a virtualenv with a script and activate naming its folder. */
  function tree(withCurrent = true) {
    const root = tempDir();
    const venvA = join(root, "releases", releaseId(COMMIT_A), "venv");
    mkdirSync(join(venvA, "bin"), { recursive: true });
    mkdirSync(join(venvA, "lib", "site-packages", "django"), { recursive: true });
    writeFileSync(join(venvA, "bin", "gunicorn"), `#!${root}/releases/${releaseId(COMMIT_A)}/venv/bin/python\nimport gunicorn\n`);
    writeFileSync(join(venvA, "bin", "activate"), `VIRTUAL_ENV='${root}/releases/${releaseId(COMMIT_A)}/venv'\n`);
    writeFileSync(join(venvA, "bin", "python"), "#!/bin/sh\n");
    chmodSync(join(venvA, "bin", "python"), 0o755);
    writeFileSync(join(venvA, "lib", "site-packages", "django", "__init__.py"), "VERSION = (5, 2)\n");
    if (withCurrent) symlinkSync(`releases/${releaseId(COMMIT_A)}`, join(root, "current"));
    mkdirSync(join(root, "releases", releaseId(COMMIT_B)), { recursive: true });
    return root;
  }
  const seed = (root: string) => bash(script(...seedVenvCommands("shop", COMMIT_B)).replaceAll("/srv/shop", root), process.env.PATH!);

  it("copies it and rewrites the folder it names, leaving the running one untouched", () => {
    const root = tree();
    expect(seed(root).code).toBe(0);
    const venvB = join(root, "releases", releaseId(COMMIT_B), "venv");
    expect(readFileSync(join(venvB, "bin", "gunicorn"), "utf8")).toBe(`#!${root}/releases/${releaseId(COMMIT_B)}/venv/bin/python\nimport gunicorn\n`);
    expect(readFileSync(join(venvB, "bin", "activate"), "utf8")).toBe(`VIRTUAL_ENV='${root}/releases/${releaseId(COMMIT_B)}/venv'\n`);
    expect(readFileSync(join(venvB, "lib", "site-packages", "django", "__init__.py"), "utf8")).toBe("VERSION = (5, 2)\n");
    const venvA = join(root, "releases", releaseId(COMMIT_A), "venv");
    expect(readFileSync(join(venvA, "bin", "gunicorn"), "utf8")).toBe(`#!${root}/releases/${releaseId(COMMIT_A)}/venv/bin/python\nimport gunicorn\n`);
  });

  it("does nothing on a host without a running release, or when the new one has a virtualenv already", () => {
    const first = tree(false);
    expect(seed(first).code).toBe(0);
    expect(readdirSync(join(first, "releases", releaseId(COMMIT_B)))).toEqual([]);
    const again = tree();
    mkdirSync(join(again, "releases", releaseId(COMMIT_B), "venv"));
    expect(seed(again).code).toBe(0);
    expect(readdirSync(join(again, "releases", releaseId(COMMIT_B), "venv"))).toEqual([]);
  });
});

describe("folders that outlive a release", () => {
  const src = releasePaths("shop", COMMIT_A).source;
  it.each([
    [`${src}/staticfiles`, { path: "/srv/shop/shared/staticfiles", rel: "staticfiles" }],
    [`${src}/var/media/`, { path: "/srv/shop/shared/var/media", rel: "var/media" }],
    ["/srv/shop/public/static", { path: "/srv/shop/public/static" }],
    [src, { path: src }],
    [`${src}/../escape`, { path: `${src}/../escape` }],
  ])("%s", (path, want) => {
    expect(sharedPathOf("shop", COMMIT_A, path)).toEqual(want);
  });
});
