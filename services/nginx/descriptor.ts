/** nginx on the load balancer: serves the apps' sites, static and media files. */
import type { ServiceDescriptor } from "../descriptor.ts";

export const nginx: ServiceDescriptor = {
  name: "nginx",
  runsOn: (roles) => roles.has("loadBalancer"),
  // openssl makes the self-signed certificate of the dev stack.
  packages: ["nginx", "openssl"],
  logs: [
    // Debian's nginx.conf; our sites set no other.
    { tag: "nginx-access", file: "/var/log/nginx/access.log" },
    { tag: "nginx-error", file: "/var/log/nginx/error.log" },
  ],
  openings: ({ cfg }) => [
    { port: 80, from: [], why: "http", public: true },
    ...(cfg.loadBalancer.tls !== "none" ? [{ port: 443, from: [], why: "https", public: true }] : []),
  ],
};
