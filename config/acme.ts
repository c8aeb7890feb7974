/**
 * Certificates from an ACME server (Let's Encrypt) for loadBalancer.tls "acme": which
 * server, where certbot puts its HTTP-01 answers, where nginx reads each app's
 * certificate, and which host names certbot can get one for. Pure.
 */
import { isIP } from "node:net";

/** The named ACME servers of `loadBalancer.acme.server`. */
export const ACME_SERVERS = {
  /** Let's Encrypt: certificates browsers trust, with tight rate limits. */
  production: "https://acme-v02.api.letsencrypt.org/directory",
  /** Let's Encrypt's staging server: same checks, generous limits, certificates no browser trusts. */
  staging: "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;
export type AcmeServerName = keyof typeof ACME_SERVERS;

/**
 * An ACME directory URL: https, a host (and port), and a path of plain characters, so it
 * is one word in a shell and never an option.
 */
export const ACME_DIRECTORY_RE = /^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?(?:\/[A-Za-z0-9._~/-]*)?$/;

/**
 * An email address certbot registers the ACME account with. Deliberately narrower than
 * RFC 5322: no quotes, spaces or shell metacharacters, and never a leading dash (certbot
 * would read `--email -x` as an option).
 */
export const ACME_EMAIL_RE = /^[A-Za-z0-9_+][A-Za-z0-9._%+-]{0,63}@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$/;

/**
 * Where certbot writes its HTTP-01 answers (`<webroot>/.well-known/acme-challenge/<token>`)
 * and nginx serves them from, on the load balancer.
 */
export const ACME_WEBROOT = "/var/lib/django-fleet/acme";

/** The script certbot runs after it issued or renewed a certificate (`--deploy-hook`). */
export const ACME_DEPLOY_HOOK = "/usr/local/lib/django-fleet/acme-deploy-hook";

/** Where `loadBalancer.acme.caFile` is copied on the load balancer (certbot's REQUESTS_CA_BUNDLE). */
export const ACME_CA_BUNDLE = "/etc/django-fleet/acme-ca.pem";

/** The folder of the stable certificate paths; one subfolder per app, 0700 root. */
export const ACME_TLS_DIR = "/etc/django-fleet/tls";

/**
 * Subject of the self-signed placeholder at the stable paths until the first real
 * certificate, as `openssl x509 -subject -nameopt RFC2253` prints it (after `subject=`).
 * The check tells a placeholder from a real certificate by it.
 */
export const ACME_PLACEHOLDER_SUBJECT = "CN=django-fleet-acme-placeholder";

/** The directory URL of `loadBalancer.acme.server`: a named server's, or the URL as given. */
export function acmeDirectory(server: string): string {
  return Object.hasOwn(ACME_SERVERS, server) ? ACME_SERVERS[server as AcmeServerName] : server;
}

/**
 * The paths nginx reads an app's certificate from. They never move: a self-signed
 * placeholder lives there until the first real certificate, and the deploy hook replaces
 * both files at each issue and renewal (certbot's own `live/` links are not used, so nginx
 * starts before certbot ever ran).
 */
export function certPaths(app: string): { readonly certificatePath: string; readonly keyPath: string } {
  const dir = `${ACME_TLS_DIR}/${app}`;
  return { certificatePath: `${dir}/fullchain.pem`, keyPath: `${dir}/privkey.pem` };
}

/** One DNS label: 1-63 letters, digits and dashes, not starting or ending with a dash. */
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * Why certbot cannot get a certificate for the host name `name` over HTTP-01, as the end
 * of a sentence that starts with the name; undefined when it can. Whether the name's DNS
 * points at the load balancer cannot be known offline, so it is not checked.
 */
export function acmeDomainProblem(name: string): string | undefined {
  if (name === "_") return "is nginx's catch-all name (any host), which no certificate can name";
  if (isIP(name)) return "is an IP address; tls \"acme\" gets certificates for DNS names only (point a DNS name at the load balancer)";
  if (name.startsWith("*.")) return "is a wildcard, which only the DNS-01 challenge can prove; tls \"acme\" answers HTTP-01 only, so list each name instead";
  if (name.length > 253) return "is longer than 253 characters, the most a DNS name can have";
  const labels = name.split(".");
  if (!labels.every((l) => LABEL.test(l))) {
    return "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash";
  }
  if (labels.length < 2) return "has no dot; an ACME server issues certificates for fully qualified domain names only";
  // Such as 10.0.0: no top-level domain is all digits, so no ACME server would accept it.
  if (/^\d+$/.test(labels[labels.length - 1]!)) return "ends with a label of digits only, which is no top-level domain";
  return undefined;
}
