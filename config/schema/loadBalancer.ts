/** The `loadBalancer` section: nginx's server names and TLS, with ACME certificates. */
import { z } from "zod";
import { ACME_DIRECTORY_RE, ACME_EMAIL_RE, ACME_SERVERS } from "../acme.ts";
import { absolutePath, SERVER_NAME } from "./primitives.ts";

/** Certificates from an ACME server (Let's Encrypt) with loadBalancer.tls "acme": certbot, HTTP-01 on port 80. */
export const acmeSchema = z.strictObject({
  /** Contact address of the ACME account certbot registers. Required with tls "acme" (checked with the topology). */
  email: z.string().max(254).regex(ACME_EMAIL_RE, "must be an email address such as you@example.com").optional(),
  /**
   * The ACME server: "production" (Let's Encrypt), "staging" (Let's Encrypt's test server,
   * certificates no browser trusts), or the https:// URL of another server's directory.
   * @default "production"
   */
  server: z.string().max(2048).refine((v) => Object.hasOwn(ACME_SERVERS, v) || ACME_DIRECTORY_RE.test(v),
    "must be \"production\", \"staging\" or the https:// URL of an ACME directory").default("production"),
  /**
   * A PEM CA bundle on this machine that signs a private ACME server's HTTPS certificate;
   * copied to the load balancer for certbot. @default the system's CAs
   */
  caFile: z.string().min(1).optional(),
  /** Days before expiry at which a certificate counts as due for renewal. @default 30 */
  renewBeforeDays: z.number().int().min(1).max(89).default(30),
});

export const loadBalancerSchema = z.strictObject({
  /** nginx server_name: host names (or addresses) separated by spaces. @default "_" (any name) */
  serverName: z.string().max(4096).refine((v) => v.split(" ").every((n) => SERVER_NAME.test(n)),
    "must be host names separated by single spaces (e.g. \"shop.example www.shop.example\"), or _").default("_"),
  /**
   * TLS: "none" (HTTP only), "selfSigned" (dev), "provided" with certificate paths on the
   * host, or "acme" (certificates from Let's Encrypt or another ACME server; see acme). @default "none"
   */
  tls: z.enum(["none", "selfSigned", "provided", "acme"]).default("none"),
  /** With tls "provided": certificate chain path on the load balancer host. */
  certificatePath: absolutePath.optional(),
  /** With tls "provided": private key path on the load balancer host. */
  keyPath: absolutePath.optional(),
  /** With tls "acme": the ACME account and server. @default none (tls "acme" needs at least its email) */
  acme: acmeSchema.optional(),
});

export type AcmeConfig = z.infer<typeof acmeSchema>;
