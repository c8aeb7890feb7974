/** certbot on the load balancer, with loadBalancer.tls "acme": gets the certificates, and its timer renews them. */
import type { ServiceDescriptor } from "../descriptor.ts";

export const certbot: ServiceDescriptor = {
  name: "certbot",
  runsOn: (roles, cfg) => roles.has("loadBalancer") && cfg.loadBalancer?.tls === "acme",
  packages: ["certbot"],
  // certbot logs to /var/log/letsencrypt, which is not followed (its runs are in the journal).
  logs: [],
};
