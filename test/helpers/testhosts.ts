/**
 * Booting real test servers (scripts/testhosts) and serving the sample app from git
 * (scripts/gitserve) for end-to-end tests, plus running commands on those servers.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, type Connection } from "../../providers/ssh.ts";
import type { Inventory } from "../../config/topology.ts";
import { ROOT, testStack, type TestStack } from "./pulumi.ts";

export const INVENTORY = "/run/django-fleet-testhosts/hosts.json";

function sh(script: string, args: string[]): string {
  return execFileSync(join(ROOT, "scripts", script), args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 900_000 });
}

export interface Fleet {
  readonly inventory: Inventory;
  readonly gitRoot: string;
  /** The commit scripts/publish-example made of examples/app. */
  readonly commit: string;
  connection(name: string): Connection;
  /** Runs a bash script on a host as root; returns stdout. */
  ssh(name: string, script: string): Promise<string>;
  down(): void;
}

/** Boots exactly these hosts (taking over the test bridge) and serves examples/app. */
export function bootFleet(names: string[]): Fleet {
  sh("gitserve", ["down"]);
  sh("testhosts", ["down"]);
  sh("testhosts", ["up", ...names]);
  const gitRoot = mkdtempSync(join(tmpdir(), "fleet-git-"));
  const commit = sh("publish-example", [gitRoot]).trim();
  sh("gitserve", ["up", gitRoot]);
  const inventory = JSON.parse(readFileSync(INVENTORY, "utf8")) as Inventory;
  const key = readFileSync(inventory.privateKeyPath!, "utf8");
  const connection = (name: string): Connection => {
    const h = inventory.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no test host ${name}`);
    return { host: h.address, user: "root", hostKey: h.hostKey, privateKey: key };
  };
  return {
    inventory, gitRoot, commit, connection,
    async ssh(name, script) {
      return (await run(connection(name), script, { step: "test command" })).stdout;
    },
    down() {
      sh("gitserve", ["down"]);
      sh("testhosts", ["down"]);
      rmSync(gitRoot, { recursive: true, force: true });
    },
  };
}

/** Boots exactly these hosts and a throwaway stack of the program set to `config`. */
export async function startRealStack(names: string[], stackName: string, config: Record<string, { value: string }>): Promise<{ fleet: Fleet; t: TestStack }> {
  const fleet = bootFleet(names);
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
