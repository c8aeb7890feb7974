/**
 * ansible-core for the Ansible peer, pinned, from PyPI, in its own virtualenv under
 * .toolchain (nothing global). Not part of scripts/setup: the bench installs it when it
 * runs (`installAnsible()`), once; a second call finds it in place.
 *
 * 2.19 is the newest series whose controller runs on Python 3.11 (Debian 12's python3;
 * 2.20 needs 3.12) and it manages targets with Python 3.8 to 3.13 (Debian 13's).
 */
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Pinned ansible-core (PyPI). */
export const ANSIBLE_CORE_VERSION = "2.19.14";

/** The controller Python ansible-core 2.19 needs at least. */
const MIN_PYTHON: readonly [number, number] = [3, 11];

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Where it is installed: .toolchain/ansible-core-<version>. */
export function ansibleDir(root: string = ROOT): string {
  return join(root, ".toolchain", `ansible-core-${ANSIBLE_CORE_VERSION}`);
}

export interface AnsibleInstall {
  readonly dir: string;
  /** The ansible-playbook executable. */
  readonly ansiblePlaybook: string;
  /** Whether this call installed it (false: it was in place). */
  readonly installed: boolean;
}

function installedVersion(dir: string): string | undefined {
  const bin = join(dir, "bin", "ansible-playbook");
  if (!existsSync(bin)) return undefined;
  try {
    const out = execFileSync(bin, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"], timeout: 60_000 });
    return /\[core ([^\]]+)\]/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Installs ansible-core ANSIBLE_CORE_VERSION into its virtualenv unless that exact version
 * is there (a half-made one is made again). `python` is the controller's interpreter.
 */
export function installAnsible(o: { readonly dir?: string; readonly python?: string } = {}): AnsibleInstall {
  const dir = o.dir ?? ansibleDir();
  const ansiblePlaybook = join(dir, "bin", "ansible-playbook");
  if (installedVersion(dir) === ANSIBLE_CORE_VERSION) return { dir, ansiblePlaybook, installed: false };
  const python = o.python ?? "python3";
  const version = execFileSync(python, ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"], { encoding: "utf8" }).trim();
  const [major, minor] = version.split(".").map(Number) as [number, number];
  if (major < MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor < MIN_PYTHON[1])) {
    throw new Error(`ansible-core ${ANSIBLE_CORE_VERSION} needs Python ${MIN_PYTHON.join(".")} or newer on this machine; ${python} is ${version}`);
  }
  rmSync(dir, { recursive: true, force: true });
  execFileSync(python, ["-m", "venv", "--", dir], { stdio: ["ignore", "ignore", "inherit"] });
  execFileSync(join(dir, "bin", "pip"), ["install", "--quiet", "--disable-pip-version-check", "--progress-bar", "off", "--", `ansible-core==${ANSIBLE_CORE_VERSION}`], {
    stdio: ["ignore", "ignore", "inherit"], timeout: 600_000,
  });
  const got = installedVersion(dir);
  if (got !== ANSIBLE_CORE_VERSION) throw new Error(`ansible-core ${ANSIBLE_CORE_VERSION} did not install into ${dir} (found ${got ?? "nothing"})`);
  return { dir, ansiblePlaybook, installed: true };
}

// `node bench/peers/ansible/install.ts` (scripts/setup): install it, or say it is in place.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const r = installAnsible();
  console.log(`ansible-core ${ANSIBLE_CORE_VERSION}: ${r.installed ? "installed" : "in place"} in ${r.dir}`);
}
