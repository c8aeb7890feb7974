import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { PythonProject } from "../../config/pythonProject.ts";
import { appPaths } from "../../components/paths.ts";
import {
  checkScript,
  installScript,
  POETRY_VERSION,
  toolBin,
  TOOLS_DIR,
  UV_VERSION,
  type InstallOptions,
  type InstallPaths,
} from "../../lib/pythonInstall.ts";
import { expectGolden } from "../helpers/golden.ts";


/** bash's verdict on a script's syntax: "" when it parses, else its error. */
function bashSyntaxErrors(body: string): string {
  const r = spawnSync("bash", ["-n"], { input: body, encoding: "utf8" });
  return r.status === 0 ? "" : r.stderr || `exit ${r.status}`;
}

/**
 * The argv a script line hands to `runuser` (or `cd`), as bash parses it: the line runs
 * with both replaced by functions that print their arguments, so nothing is executed.
 */
function argvOf(line: string): string[] {
  const out = execFileSync("bash", ["-c", `runuser() { printf '%s\\0' "$@"; }\ncd() { printf '%s\\0' "$@"; }\n${line}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

/** The script's lines, without the last one that records the method (tested on its own). */
function lines(s: string): string[] {
  const all = s.trimEnd().split("\n");
  return all.at(-1)!.includes(" install -m 0644 /dev/null ") ? all.slice(0, -1) : all;
}

/** As the app user, with a clean environment: the prefix of every command that touches its tree. */
const AS_SHOP = "runuser -u shop -- env -i HOME=/srv/shop PATH=/usr/local/bin:/usr/bin:/bin";
/** `runuser` for a test that runs a script for real: runs the command after `-u USER --` as this user. */
const RUNUSER_SHIM = 'runuser() { shift 3; "$@"; }';

const shop = appPaths("shop");
// installScript takes any paths; these are the ones the tests and golden files were written with.
const PATHS: InstallPaths = { user: "shop", home: shop.root, source: `${shop.root}/source`, venv: `${shop.root}/venv` };
const NONE: InstallOptions = { groups: [], extras: [] };
const OPTIONS: InstallOptions = { groups: ["prod"], extras: ["postgres", "redis"] };

const UV: PythonProject = { method: "uv", reason: "uv.lock found", requireHashes: false };
const POETRY: PythonProject = { method: "poetry", reason: "poetry.lock found", requireHashes: false };
const PIP: PythonProject = { method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false };
const PIP_HASHED: PythonProject = { ...PIP, requireHashes: true };

// Values with spaces, quotes and shell syntax, where a user can put them.
const ODD_PATHS: InstallPaths = {
  user: "shop",
  home: "/srv/my shop",
  source: "/srv/my shop/it's source",
  venv: "/nonexistent/my shop/venv $HOME",
};
const ODD_OPTIONS: InstallOptions = { groups: ["web", "a b", "it's"], extras: ["postgres", "x;rm -rf /"] };
const ODD_PIP: PythonProject = { ...PIP_HASHED, requirementsFile: "reqs/it's prod.txt" };

describe("installScript golden files", () => {
  it("uv", () => expectGolden("install-uv", installScript(UV, PATHS, OPTIONS)));
  it("poetry", () => expectGolden("install-poetry", installScript(POETRY, PATHS, OPTIONS)));
  it("pip with hashes", () => expectGolden("install-pip", installScript(PIP_HASHED, PATHS, NONE)));
});

describe("the virtualenv records the tool that made it", () => {
  // Removed by the app user: the virtualenv is its own, and root would follow a link there.
  const rebuild: Record<string, string> = {
    uv: `${AS_SHOP} bash -euo pipefail -c 'if [ -d /srv/shop/venv ] && [ ! -e /srv/shop/venv/.django-fleet-made-by-uv ]; then rm -rf -- /srv/shop/venv; fi'`,
    poetry: `${AS_SHOP} bash -euo pipefail -c 'if [ -d /srv/shop/venv ] && [ ! -e /srv/shop/venv/.django-fleet-made-by-poetry ]; then rm -rf -- /srv/shop/venv; fi'`,
    pip: `${AS_SHOP} bash -euo pipefail -c 'if [ -e /srv/shop/venv/.django-fleet-made-by-uv ] || [ -e /srv/shop/venv/.django-fleet-made-by-poetry ]; then rm -rf -- /srv/shop/venv; fi'`,
  };
  for (const [project, method] of [[UV, "uv"], [POETRY, "poetry"], [PIP, "pip"]] as const) {
    it(`${method}: removes a virtualenv another tool made, and records ${method} last`, () => {
      const all = installScript(project, PATHS, NONE).trimEnd().split("\n");
      expect(all[1]).toBe(rebuild[method]);
      expect(all.at(-1)).toBe(`${AS_SHOP} install -m 0644 /dev/null /srv/shop/venv/.django-fleet-made-by-${method}`);
    });
  }

  it("run for real: a uv-made virtualenv is removed before pip builds, a pip-made one kept", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-venv-"));
    const venv = join(dir, "venv");
    const paths = { ...PATHS, venv };
    const first = (project: typeof PIP) => `${RUNUSER_SHIM}\n${installScript(project, paths, NONE).split("\n")[1]!}`;
    execFileSync("bash", ["-c", `mkdir -p '${venv}' && touch '${venv}/.django-fleet-made-by-uv'\n${first(PIP)}`]);
    expect(existsSync(venv)).toBe(false);
    execFileSync("bash", ["-c", `mkdir -p '${venv}/bin'\n${first(PIP)}`]);
    expect(existsSync(join(venv, "bin"))).toBe(true);
    execFileSync("bash", ["-c", first(UV)]);
    expect(existsSync(venv)).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("installScript: uv", () => {
  const s = installScript(UV, PATHS, OPTIONS);

  it("pins uv, in its own virtualenv, reinstalled only when the version differs", () => {
    expect(UV_VERSION).toBe("0.13.9");
    expect(toolBin("uv")).toBe(`/opt/django-fleet/uv-${UV_VERSION}/bin/uv`);
    expect(lines(s).slice(0, 7)).toEqual([
      `install -d -m 0755 ${TOOLS_DIR}`,
      `${AS_SHOP} bash -euo pipefail -c 'if [ -d /srv/shop/venv ] && [ ! -e /srv/shop/venv/.django-fleet-made-by-uv ]; then rm -rf -- /srv/shop/venv; fi'`,
      `if ! /opt/django-fleet/uv-${UV_VERSION}/bin/uv --version 2>/dev/null | grep -qF -- ${UV_VERSION}; then`,
      `  rm -rf -- /opt/django-fleet/uv-${UV_VERSION}`,
      `  (cd / && python3 -I -m venv -- /opt/django-fleet/uv-${UV_VERSION})`,
      `  (cd / && PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/django-fleet/uv-${UV_VERSION}/bin/pip install --quiet --no-cache-dir --progress-bar off -- uv==${UV_VERSION})`,
      "fi",
    ]);
  });

  it("run for real: root's python3 -m venv ignores a venv.py in the app's checkout it is called from", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-tool-"));
    try {
      // The checkout holds a venv.py the app user planted; the build's root shell stands in it.
      const checkout = join(dir, "checkout");
      const marker = join(dir, "planted-ran");
      execFileSync("bash", ["-c", `mkdir -p '${checkout}' && printf 'open(%s, "w").close()\\n' "'${marker}'" > '${checkout}/venv.py'`]);
      const line = lines(s).find((l) => l.includes(" -m venv -- "))!.trim();
      // Only where the venv goes differs from the script (and no pip: no network here).
      const runFrom = (l: string) => execFileSync("bash", ["-c", `cd '${checkout}'\n${l.replace(`-- /opt/django-fleet/uv-${UV_VERSION}`, `--without-pip -- '${join(dir, "tool")}'`)}`]);
      runFrom(line);
      expect(existsSync(join(dir, "tool", "bin"))).toBe(true);
      expect(existsSync(marker)).toBe(false);
      // The control: the same call as it was (from the checkout, not isolated) runs the planted file.
      runFrom(`python3 -m venv -- /opt/django-fleet/uv-${UV_VERSION}`);
      expect(existsSync(marker)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("syncs from the lock file as the app user, with the host's python3 and no downloads", () => {
    expect(argvOf(lines(s).at(-1)!)).toEqual([
      "-u", "shop", "--", "env", "-i",
      "HOME=/srv/shop", "PATH=/usr/local/bin:/usr/bin:/bin",
      "UV_CACHE_DIR=/srv/shop/.cache/uv", "UV_PYTHON_DOWNLOADS=never", "UV_PYTHON=/usr/bin/python3",
      "UV_PROJECT_ENVIRONMENT=/srv/shop/venv", "UV_LINK_MODE=copy", "UV_NO_PROGRESS=1", "UV_SYSTEM_CERTS=1",
      `/opt/django-fleet/uv-${UV_VERSION}/bin/uv`, "sync", "--frozen", "--no-dev",
      "--group", "prod", "--extra", "postgres", "--extra", "redis",
    ]);
  });

  it("runs the sync in the checkout", () => {
    expect(lines(s).at(-2)).toBe("cd /srv/shop/source");
  });

  it("without groups or extras syncs only the main dependencies", () => {
    expect(lines(installScript(UV, PATHS, NONE)).at(-1)).toMatch(/ \/opt\/django-fleet\/uv-0\.13\.9\/bin\/uv sync --frozen --no-dev$/);
  });

  it("never installs Poetry nor makes a virtualenv with pip", () => {
    expect(s).not.toContain("poetry==");
    expect(s).not.toContain("/srv/shop/venv/bin/pip");
    expect(s).not.toContain("-m venv -- /srv/shop/venv");
  });

  it("quotes every user value", () => {
    const odd = installScript(UV, ODD_PATHS, ODD_OPTIONS);
    expect(lines(odd).at(-2)).toBe("cd '/srv/my shop/it'\\''s source'");
    expect(argvOf(lines(odd).at(-2)!)).toEqual(["/srv/my shop/it's source"]);
    expect(lines(odd).at(-1)).toContain("--group web --group 'a b' --group 'it'\\''s' --extra postgres --extra 'x;rm -rf /'");
    expect(lines(odd).at(-1)).toContain("'HOME=/srv/my shop'");
    expect(lines(odd).at(-1)).toContain("'UV_PROJECT_ENVIRONMENT=/nonexistent/my shop/venv $HOME'");
    expect(argvOf(lines(odd).at(-1)!)).toEqual([
      "-u", "shop", "--", "env", "-i",
      "HOME=/srv/my shop", "PATH=/usr/local/bin:/usr/bin:/bin",
      "UV_CACHE_DIR=/srv/my shop/.cache/uv", "UV_PYTHON_DOWNLOADS=never", "UV_PYTHON=/usr/bin/python3",
      "UV_PROJECT_ENVIRONMENT=/nonexistent/my shop/venv $HOME", "UV_LINK_MODE=copy", "UV_NO_PROGRESS=1", "UV_SYSTEM_CERTS=1",
      `/opt/django-fleet/uv-${UV_VERSION}/bin/uv`, "sync", "--frozen", "--no-dev",
      "--group", "web", "--group", "a b", "--group", "it's", "--extra", "postgres", "--extra", "x;rm -rf /",
    ]);
  });
});

describe("installScript: poetry", () => {
  const s = installScript(POETRY, PATHS, OPTIONS);

  it("pins Poetry in its own virtualenv", () => {
    expect(POETRY_VERSION).toBe("2.5.1");
    expect(s).toContain(`  (cd / && PIP_DISABLE_PIP_VERSION_CHECK=1 /opt/django-fleet/poetry-${POETRY_VERSION}/bin/pip install --quiet --no-cache-dir --progress-bar off -- poetry==${POETRY_VERSION})\n`);
    expect(s).not.toContain("uv==");
  });

  it("makes the app's virtualenv as the app user when it has no python", () => {
    expect(argvOf(lines(installScript(POETRY, ODD_PATHS, OPTIONS)).at(-2)!))
      .toEqual(["-u", "shop", "--", "env", "-i", "HOME=/srv/my shop", "PATH=/usr/local/bin:/usr/bin:/bin", "python3", "-m", "venv", "--", "/nonexistent/my shop/venv $HOME"]);
  });

  it("syncs main plus the groups, with the extras, into that virtualenv", () => {
    expect(argvOf(lines(s).at(-1)!)).toEqual([
      "-u", "shop", "--", "env", "-i",
      "HOME=/srv/shop", "PATH=/usr/local/bin:/usr/bin:/bin",
      "VIRTUAL_ENV=/srv/shop/venv", "POETRY_CACHE_DIR=/srv/shop/.cache/pypoetry", "POETRY_VIRTUALENVS_CREATE=false", "POETRY_NO_INTERACTION=1", "REQUESTS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt",
      `/opt/django-fleet/poetry-${POETRY_VERSION}/bin/poetry`, "sync", "--no-ansi", "--no-root", "--only", "main,prod", "--extras", "postgres redis",
    ]);
  });

  it("without groups or extras installs only main", () => {
    expect(lines(installScript(POETRY, PATHS, NONE)).at(-1)).toMatch(/\/bin\/poetry sync --no-ansi --no-root --only main$/);
  });

  it("quotes every user value", () => {
    const odd = installScript(POETRY, ODD_PATHS, ODD_OPTIONS);
    expect(argvOf(lines(odd).at(-1)!).slice(-7)).toEqual(["sync", "--no-ansi", "--no-root", "--only", "main,web,a b,it's", "--extras", "postgres x;rm -rf /"]);
  });
});

describe("installScript: pip", () => {
  it("installs the requirements file as the app user, without --require-hashes when it has no hashes", () => {
    expect(argvOf(lines(installScript(PIP, PATHS, NONE)).at(-1)!)).toEqual([
      "-u", "shop", "--", "env", "-i",
      "HOME=/srv/shop", "PATH=/usr/local/bin:/usr/bin:/bin",
      "PIP_CACHE_DIR=/srv/shop/.cache/pip", "PIP_DISABLE_PIP_VERSION_CHECK=1",
      "/srv/shop/venv/bin/pip", "install", "--quiet", "--progress-bar", "off", "-r", "requirements.txt",
    ]);
  });

  it("adds --require-hashes when the file pins hashes", () => {
    expect(argvOf(lines(installScript(PIP_HASHED, PATHS, NONE)).at(-1)!).slice(-8))
      .toEqual(["/srv/shop/venv/bin/pip", "install", "--quiet", "--progress-bar", "off", "--require-hashes", "-r", "requirements.txt"]);
    expect(installScript(PIP_HASHED, PATHS, NONE)).toContain(" --require-hashes -r requirements.txt\n");
    expect(installScript(PIP, PATHS, NONE)).not.toContain("--require-hashes");
  });

  it("installs no tool and ignores groups and extras", () => {
    const s = installScript(PIP, PATHS, OPTIONS);
    expect(s).toBe(installScript(PIP, PATHS, NONE));
    expect(s).not.toContain(TOOLS_DIR + "/");
  });

  it("makes the virtualenv as the app user when it has no python", () => {
    expect(lines(installScript(PIP, PATHS, NONE)).at(-2)).toBe("[ -x /srv/shop/venv/bin/python ] || runuser -u shop -- env -i HOME=/srv/shop PATH=/usr/local/bin:/usr/bin:/bin python3 -m venv -- /srv/shop/venv");
  });

  it("quotes every user value", () => {
    const odd = installScript(ODD_PIP, ODD_PATHS, NONE);
    expect(lines(odd).at(-1)).toMatch(/ -r 'reqs\/it'\\''s prod\.txt'$/);
    expect(argvOf(lines(odd).at(-1)!)).toEqual([
      "-u", "shop", "--", "env", "-i",
      "HOME=/srv/my shop", "PATH=/usr/local/bin:/usr/bin:/bin",
      "PIP_CACHE_DIR=/srv/my shop/.cache/pip", "PIP_DISABLE_PIP_VERSION_CHECK=1",
      "/nonexistent/my shop/venv $HOME/bin/pip", "install", "--quiet", "--progress-bar", "off", "--require-hashes", "-r", "reqs/it's prod.txt",
    ]);
    expect(argvOf(lines(odd).at(-2)!)).toEqual(["-u", "shop", "--", "env", "-i", "HOME=/srv/my shop", "PATH=/usr/local/bin:/usr/bin:/bin", "python3", "-m", "venv", "--", "/nonexistent/my shop/venv $HOME"]);
  });
});

describe("checkScript", () => {
  it("uv checks the environment with uv pip check, as the app user", () => {
    const s = checkScript(UV, PATHS);
    expect(s).toBe(
      "cd /srv/shop/source\nrunuser -u shop -- env -i HOME=/srv/shop PATH=/usr/local/bin:/usr/bin:/bin UV_CACHE_DIR=/srv/shop/.cache/uv UV_PYTHON_DOWNLOADS=never " +
        "UV_PYTHON=/usr/bin/python3 UV_PROJECT_ENVIRONMENT=/srv/shop/venv UV_LINK_MODE=copy UV_NO_PROGRESS=1 UV_SYSTEM_CERTS=1 " +
        `/opt/django-fleet/uv-${UV_VERSION}/bin/uv pip check --quiet --python /srv/shop/venv/bin/python >/dev/null\n`,
    );
  });
  // The virtualenv is the app's: a .pth file in its site-packages runs whenever its Python
  // starts, so the check runs as the app user, with nothing of root's environment.
  const PIP_CHECK = `cd /srv/shop/source\n${AS_SHOP} PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 /srv/shop/venv/bin/python -m pip check >/dev/null\n`;
  it("Poetry checks with the virtualenv's pip, as the app user in its checkout", () => {
    expect(checkScript(POETRY, PATHS)).toBe(PIP_CHECK);
  });
  it("pip checks with the virtualenv's pip, as the app user in its checkout", () => {
    expect(checkScript(PIP, PATHS)).toBe(PIP_CHECK);
    expect(argvOf(checkScript(PIP, PATHS).split("\n")[1]!.replace(/ >\/dev\/null$/, ""))).toEqual([
      "-u", "shop", "--", "env", "-i", "HOME=/srv/shop", "PATH=/usr/local/bin:/usr/bin:/bin",
      "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1", "/srv/shop/venv/bin/python", "-m", "pip", "check",
    ]);
  });
  it("run for real: the virtualenv's Python sees none of the caller's environment", () => {
    const dir = mkdtempSync(join(tmpdir(), "fleet-check-"));
    const paths = { ...PATHS, source: dir, venv: join(dir, "venv") };
    // A stand-in python that fails when it inherits PYTHONPATH (or anything else of root's).
    execFileSync("bash", ["-c", `mkdir -p '${dir}/venv/bin' && printf '#!/bin/sh\n[ -z "$PYTHONPATH$ROOTS_OWN" ] && [ "$HOME" = /srv/shop ]\n' > '${dir}/venv/bin/python' && chmod +x '${dir}/venv/bin/python'`]);
    const run = (body: string) => spawnSync("bash", ["-euo", "pipefail", "-c", `${RUNUSER_SHIM}\n${body}`], { env: { ...process.env, PYTHONPATH: "/evil", ROOTS_OWN: "1" } }).status;
    expect(run(checkScript(PIP, paths))).toBe(0);
    // The stand-in can fail: without env -i it would see PYTHONPATH.
    expect(run(checkScript(PIP, paths).replace(" env -i ", " env "))).not.toBe(0);
    rmSync(dir, { recursive: true, force: true });
  });
  it("quotes the virtualenv path", () => {
    expect(checkScript(PIP, ODD_PATHS)).toContain(" '/nonexistent/my shop/venv $HOME/bin/python' -m pip check >/dev/null\n");
    expect(argvOf(checkScript(UV, ODD_PATHS).replace(/ >\/dev\/null\n$/, "")).slice(-5)).toEqual(["pip", "check", "--quiet", "--python", "/nonexistent/my shop/venv $HOME/bin/python"]);
  });
});

describe("every script is valid bash", () => {
  const projects: Array<[string, PythonProject]> = [["uv", UV], ["poetry", POETRY], ["pip", PIP], ["pip with hashes", PIP_HASHED], ["pip, odd file name", ODD_PIP]];
  for (const [name, project] of projects) {
    for (const [which, paths, options] of [["plain", PATHS, NONE], ["with groups and extras", PATHS, OPTIONS], ["odd values", ODD_PATHS, ODD_OPTIONS]] as const) {
      it(`${name} install script, ${which}`, () => {
        expect(bashSyntaxErrors(installScript(project, paths, options))).toBe("");
      });
    }
    it(`${name} check script`, () => {
      expect(bashSyntaxErrors(checkScript(project, PATHS))).toBe("");
      expect(bashSyntaxErrors(checkScript(project, ODD_PATHS))).toBe("");
    });
  }
  it("the syntax check can fail", () => {
    expect(bashSyntaxErrors("if true; then\n")).not.toBe("");
  });
});
