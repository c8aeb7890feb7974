/**
 * The config rules of loadBalancer.tls "acme", which the topology reports with the other
 * cross-key rules (apart from acme.ts, which the schema reads: the rules read the apps,
 * and the apps read the schema). Pure.
 */
import { acmeDomainProblem } from "./acme.ts";
import type { AppPlan } from "./apps.ts";
import type { StackConfig } from "./schema.ts";

/**
 * The rules of loadBalancer.tls "acme": an account address, host names certbot can get a
 * certificate for over HTTP-01, and no settings that would be silently ignored. Whether
 * the ACME server answers, or the names' DNS points here, cannot be known offline.
 */
export function acmeProblems(lb: StackConfig["loadBalancer"], apps: readonly AppPlan[]): string[] {
  if (lb.tls !== "acme") {
    return lb.acme ? [`loadBalancer.acme: is set, but loadBalancer.tls is "${lb.tls}", so it would not be used. Fix: \`npm run pulumi -- config set --path loadBalancer.tls acme\`, or \`npm run pulumi -- config rm --path loadBalancer.acme\``] : [];
  }
  const out: string[] = [];
  if (!lb.acme?.email) {
    out.push("loadBalancer.acme.email: missing; certbot registers the ACME account under it (the CA's notices about the account go there). Fix: `npm run pulumi -- config set --path loadBalancer.acme.email you@example.com`");
  }
  for (const app of apps) {
    // Empty with several apps and no domains, which is reported already.
    app.serverName.split(" ").forEach((name, j) => {
      const why = name ? acmeDomainProblem(name) : undefined;
      if (!why) return;
      const [key, fix] = app.namesKey === "loadBalancer.serverName"
        ? ["loadBalancer.serverName", "`npm run pulumi -- config set --path loadBalancer.serverName shop.example` (the DNS names whose A records point at the load balancer, separated by spaces)"]
        : [`${app.namesKey}[${j}]`, `\`npm run pulumi -- config set --path '${app.namesKey}[${j}]' shop.example\` (a DNS name whose A record points at the load balancer)`];
      out.push(`${key}: ${JSON.stringify(name)} ${why}. Fix: ${fix}`);
    });
  }
  for (const app of apps.filter((a) => a.tls)) {
    out.push(`${app.key}.tls: a certificate is set, but loadBalancer.tls is "acme": certificates come from the ACME server. Fix: \`npm run pulumi -- config rm --path '${app.key}.tls'\``);
  }
  return out;
}
