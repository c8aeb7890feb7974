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

/** Starts pebble on the bridge (needs `scripts/testhosts up`); every name resolves to `lbAddress`. */
export function startAcmeServer(lbAddress: string): AcmeServer {
  execFileSync(script, ["up", "--address", "198.18.0.1", "--default-ipv4", lbAddress], { stdio: ["ignore", "ignore", "inherit"] });
  const env = Object.fromEntries(execFileSync(script, ["env"], { encoding: "utf8" }).split("\n")
    .map((l) => /^export ([A-Z_]+)=(.*)$/.exec(l)).filter((m) => m !== null)
    .map((m) => [m[1]!, m[2]!.replace(/^['"]|['"]$/g, "")]));
  const dir = mkdtempSync(join(tmpdir(), "fleet-acme-"));
  const rootFile = join(dir, "pebble-root.pem");
  writeFileSync(rootFile, execFileSync("curl", ["-fsS", "--cacert", env.ACME_CA_FILE!, `${env.ACME_MANAGEMENT}/roots/0`], { encoding: "utf8" }));
  return {
    directory: env.ACME_DIRECTORY!, caFile: env.ACME_CA_FILE!, rootFile,
    stop() { execFileSync(script, ["down"], { stdio: "ignore" }); },
  };
}
