/**
 * A real ACME server for tests (scripts/acmeserve: pebble and pebble-challtestsrv on the
 * test bridge), whose DNS answers every test domain with the load balancer's address, so
 * pebble's HTTP-01 checks really reach our nginx.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./pulumi.ts";

export interface AcmeServer {
  /** The ACME directory URL (`https://198.18.0.1:14000/dir`). */
  readonly directory: string;
  /** The CA file (PEM) of pebble's own HTTPS (for certbot on the hosts: loadBalancer.acme.caFile). */
  readonly caFile: string;
  /** A file holding the root that signs the certificates pebble issues (new on every start). */
  readonly rootFile: string;
  stop(): void;
}

const script = join(ROOT, "scripts/acmeserve");

/**
 * Runs a command to its end within `timeoutMs` (its first build of pebble included);
 * a failure or a timeout says which step it was.
 */
function bounded(what: string, timeoutMs: number, file: string, args: string[], inherit = false): string {
  try {
    return execFileSync(file, args, {
      encoding: "utf8", timeout: timeoutMs, killSignal: "SIGKILL",
      stdio: inherit ? ["ignore", "ignore", "inherit"] : ["ignore", "pipe", "pipe"],
    }) ?? "";
  } catch (e) {
    const err = e as { code?: string; stderr?: string; message: string };
    const why = err.code === "ETIMEDOUT" ? `no answer within ${timeoutMs / 1000} s` : (err.stderr?.trim() || err.message);
    throw new Error(`acme server: ${what} failed: ${why}`);
  }
}

/** Starts pebble on the bridge (needs `scripts/testhosts up`); every name resolves to `lbAddress`. */
export function startAcmeServer(lbAddress: string): AcmeServer {
  // scripts/acmeserve bounds its own steps (a first build of pebble: 900 s; ready: 15 s).
  bounded("scripts/acmeserve up (building pebble the first time, then waiting for it to answer)", 1_000_000,
    script, ["up", "--address", "198.18.0.1", "--default-ipv4", lbAddress], true);
  const env = Object.fromEntries(bounded("scripts/acmeserve env", 30_000, script, ["env"]).split("\n")
    .map((l) => /^export ([A-Z_]+)=(.*)$/.exec(l)).filter((m) => m !== null)
    .map((m) => [m[1]!, m[2]!.replace(/^['"]|['"]$/g, "")]));
  const dir = mkdtempSync(join(tmpdir(), "fleet-acme-"));
  const rootFile = join(dir, "pebble-root.pem");
  writeFileSync(rootFile, bounded("fetching pebble's root from its management API", 30_000,
    "curl", ["-fsS", "--max-time", "20", "--cacert", env.ACME_CA_FILE!, `${env.ACME_MANAGEMENT}/roots/0`]));
  return {
    directory: env.ACME_DIRECTORY!, caFile: env.ACME_CA_FILE!, rootFile,
    stop() { bounded("scripts/acmeserve down", 60_000, script, ["down"]); },
  };
}
