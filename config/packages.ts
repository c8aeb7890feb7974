/**
 * Which Debian packages a host needs: the basics every host gets, and those of each
 * service that runs there (services/<service>/descriptor.ts). Pure; the Host component
 * installs the union for a host in one apt run (one SSH round trip, one dpkg lock).
 */
import type { Role } from "./schema.ts";
import { servicesOn } from "../services/index.ts";
import type { ServiceConfig } from "../services/descriptor.ts";

/** Every host, whatever runs on it: time sync, unattended security updates, TLS roots. */
export const BASE_PACKAGES = ["ca-certificates", "systemd-timesyncd", "unattended-upgrades", "curl", "netbase"] as const;

export function packagesFor(roles: ReadonlySet<Role>, cfg: ServiceConfig): string[] {
  const p = new Set<string>(BASE_PACKAGES);
  for (const s of servicesOn(roles, cfg)) {
    s.packages.forEach((x) => p.add(x));
    s.morePackages?.(cfg).forEach((x) => p.add(x));
  }
  return [...p].sort();
}
