/**
 * Booting real test servers (scripts/testhosts) and serving the sample app from git
 * (scripts/gitserve) for end-to-end tests, plus running commands on those servers.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dropPooledConnection, run, type Connection } from "../../providers/ssh.ts";
import type { Inventory } from "../../config/topology.ts";
import { ROOT, testStack, type TestStack } from "./pulumi.ts";

export const INVENTORY = "/run/django-fleet-testhosts/hosts.json";

/** Debian suites scripts/testhosts can boot: trixie (13, its default) and bookworm (12). */
export type TestSuite = "trixie" | "bookworm";
export const TEST_SUITES: readonly TestSuite[] = ["trixie", "bookworm"];

export interface BootOptions {
  /**
   * Suite of every host named without `@suite` (`bootFleet(["app13", "old@bookworm"])`
   * mixes suites). Unset: DJANGO_FLEET_TESTHOSTS_SUITE if set, else trixie.
   */
  readonly suite?: TestSuite;
}

/** "old@bookworm" -> "old": the host's name in the inventory, hostname and /etc/hosts. */
export function hostName(spec: string): string {
  const at = spec.indexOf("@");
  return at < 0 ? spec : spec.slice(0, at);
}

/** scripts/testhosts's `up` arguments for these hosts. */
export function upArgs(names: readonly string[], options: BootOptions = {}): string[] {
  for (const n of names) {
    const suite = n.includes("@") ? n.slice(n.indexOf("@") + 1) : undefined;
    if (suite !== undefined && !TEST_SUITES.includes(suite as TestSuite)) throw new Error(`test host ${n}: unknown suite "${suite}" (known: ${TEST_SUITES.join(", ")})`);
  }
  if (options.suite !== undefined && !TEST_SUITES.includes(options.suite)) throw new Error(`unknown test suite "${options.suite}" (known: ${TEST_SUITES.join(", ")})`);
  return ["up", ...(options.suite ? ["--suite", options.suite] : []), ...names];
}

/** hosts.json as scripts/testhosts writes it: the inventory plus each host's suite. */
export interface TestInventory extends Inventory {
  readonly hosts: ReadonlyArray<Inventory["hosts"][number] & { suite?: TestSuite }>;
}

function sh(script: string, args: string[]): string {
  return execFileSync(join(ROOT, "scripts", script), args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 900_000 });
}

export interface Fleet {
  readonly inventory: TestInventory;
  readonly gitRoot: string;
  /** The commit scripts/publish-example made of examples/app. */
  readonly commit: string;
  /** `name` may carry the `@suite` it was booted with. */
  connection(name: string): Connection;
  /** The Debian suite host `name` runs. */
  suite(name: string): TestSuite;
  /** Runs a bash script on a host as root; returns stdout. */
  ssh(name: string, script: string): Promise<string>;
  /** Kills host `name`, wipes its disk and boots it bare (same address and host keys). */
  rebuild(name: string): void;
  down(): void;
}

/**
 * Boots exactly these hosts (taking over the test bridge) and serves examples/app.
 * A name may end in `@trixie` or `@bookworm` to pick that host's suite; `options.suite`
 * picks it for the others (default trixie). Inventory names never carry the suffix.
 */
export function bootFleet(names: string[], options: BootOptions = {}): Fleet {
  const args = upArgs(names, options);
  sh("gitserve", ["down"]);
  sh("testhosts", ["down"]);
  sh("testhosts", args);
  const gitRoot = mkdtempSync(join(tmpdir(), "fleet-git-"));
  const commit = sh("publish-example", [gitRoot]).trim();
  // The second example (examples/uvapp) is served beside it, as fleetuv.git.
  sh("publish-example", [gitRoot, "uvapp"]);
  // The third (examples/blog) runs side by side with fleetdemo in the two-app tests, as blog.git.
  sh("publish-example", [gitRoot, "blog"]);
  sh("gitserve", ["up", gitRoot]);
  const inventory = JSON.parse(readFileSync(INVENTORY, "utf8")) as TestInventory;
  const key = readFileSync(inventory.privateKeyPath!, "utf8");
  const host = (name: string) => {
    const h = inventory.hosts.find((x) => x.name === hostName(name));
    if (!h) throw new Error(`no test host ${name}`);
    return h;
  };
  const connection = (name: string): Connection => {
    const h = host(name);
    return { host: h.address, user: "root", hostKey: h.hostKey, privateKey: key };
  };
  return {
    inventory, gitRoot, commit, connection,
    suite(name) {
      const s = host(name).suite;
      if (!s) throw new Error(`${INVENTORY} records no suite for ${name} (scripts/testhosts too old?)`);
      return s;
    },
    async ssh(name, script) {
      return (await run(connection(name), script, { step: "test command" })).stdout;
    },
    rebuild(name: string) {
      dropPooledConnection(connection(name));
      sh("testhosts", ["rebuild", hostName(name)]);
      dropPooledConnection(connection(name));
    },
    down() {
      sh("gitserve", ["down"]);
      sh("testhosts", ["down"]);
      rmSync(gitRoot, { recursive: true, force: true });
    },
  };
}

/** Boots exactly these hosts (see bootFleet) and a throwaway stack of the program set to `config`. */
export async function startRealStack(names: string[], stackName: string, config: Record<string, { value: string }>, options: BootOptions = {}): Promise<{ fleet: Fleet; t: TestStack }> {
  const fleet = bootFleet(names, options);
  const t = await testStack(ROOT, stackName);
  await t.stack.setAllConfig(config);
  return { fleet, t };
}

/** Destroys and removes the stack (best effort), then stops the hosts, whatever happened. */
export async function stopRealStack(fleet: Fleet | undefined, t: TestStack | undefined, log: (s: string) => void): Promise<void> {
  try {
    await t?.stack.destroy({ onOutput: log }).catch(() => undefined);
    await t?.cleanup();
  } finally {
    fleet?.down();
  }
}

/** GETs a URL until `ok(body)` holds or the time is up; returns the last body. */
export async function waitForPage(url: string, ok: (body: string) => boolean, timeoutMs = 90_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  let body = "";
  while (Date.now() < until) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
      body = await res.text();
      if (res.ok && ok(body)) return body;
    } catch (e) {
      body = String(e);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
  return body;
}
