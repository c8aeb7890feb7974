/**
 * Certificates from an ACME server with certbot (HTTP-01, webroot): the command that
 * issues one app's certificate, the deploy hook that installs it where nginx reads it,
 * the systemd drop-in that lets certbot's timer trust a private ACME server, and the
 * check that tells whether an app's certificate is real and not due for renewal.
 */
import { ACME_EMAIL_RE, ACME_DIRECTORY_RE, ACME_TLS_DIR, acmeDomainProblem } from "../../config/acme.ts";
import { cmd, quote, script } from "../../lib/shell.ts";
import { assertInt, assertMatches, assertPath, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** certbot's lineage name: an app's name, so one plain path segment in /etc/letsencrypt and in the deploy hook. */
const CERT_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Options for {@link certbotIssueCommand}. */
export interface CertbotIssueOptions {
  /** certbot's lineage name (`--cert-name`): the app's name; the deploy hook installs the lineage under it. */
  readonly certName: string;
  /** The host names on the certificate, in order (the first is its primary name). At least one. */
  readonly domains: readonly string[];
  /** Contact address of the ACME account. */
  readonly email: string;
  /** ACME directory URL (see config/acme.ts `acmeDirectory`). */
  readonly directory: string;
  /** Folder certbot writes the HTTP-01 answers into and nginx serves them from. */
  readonly webroot: string;
  /** Absolute path of the deploy hook ({@link renderAcmeDeployHook}); certbot keeps it for renewals. */
  readonly deployHook: string;
  /**
   * Issue a new certificate even when the current one is not due (`--force-renewal`).
   * @default false (`--keep-until-expiring`: a certificate that is not due is kept)
   */
  readonly forceRenewal?: boolean;
  /**
   * A PEM CA bundle on the host that signs a private ACME server's HTTPS certificate;
   * certbot then runs with `REQUESTS_CA_BUNDLE` set to it.
   * @default the system's CAs
   */
  readonly caBundle?: string;
}

/**
 * The command that gets (or keeps) one app's certificate:
 * `certbot certonly --non-interactive --agree-tos --no-eff-email --email E --server URL
 * --webroot -w WEBROOT --cert-name NAME --deploy-hook HOOK --keep-until-expiring
 * [--force-renewal] -d d1 -d d2`. certbot saves these settings in its renewal file, so its
 * timer renews the same way.
 */
export function certbotIssueCommand(o: CertbotIssueOptions): string {
  const certName = assertMatches("certbot certName", o.certName, CERT_NAME, "an app name (lower-case letters, digits and '_', starting with a letter)");
  if (o.domains.length === 0) throw new Error(`certbot ${certName}: domains is empty; at least one host name is required`);
  // certbot's parser takes no `--` before values, so every value is checked instead: none
  // may start with a dash (read as an option) or hold anything but its own characters.
  // Each is also quoted with cmd, so no value can change the command's meaning in a shell.
  const domains = o.domains.flatMap((d, i) => {
    const why = acmeDomainProblem(d);
    if (why !== undefined) throw new Error(`certbot domains[${i}] ${JSON.stringify(d)} is invalid: it ${why}`);
    return ["-d", d];
  });
  const email = assertMatches("certbot email", o.email, ACME_EMAIL_RE, "an email address such as you@example.com");
  const directory = assertMatches("certbot directory", o.directory, ACME_DIRECTORY_RE, "the https:// URL of an ACME directory");
  const webroot = assertPath("certbot webroot", o.webroot);
  const hook = assertPath("certbot deployHook", o.deployHook);
  const env = o.caBundle === undefined ? [] : ["env", `REQUESTS_CA_BUNDLE=${assertPath("certbot caBundle", o.caBundle)}`];
  return cmd(
    ...env,
    "certbot", "certonly", "--non-interactive", "--agree-tos", "--no-eff-email",
    "--email", email,
    "--server", directory,
    "--webroot", "-w", webroot,
    "--cert-name", certName,
    // certbot runs the hook through a shell; a checked path is one word there too.
    "--deploy-hook", hook,
    // A certificate that is not due yet is kept (no ACME order), so running this at every
    // deploy costs nothing and spends none of the ACME server's rate limits.
    "--keep-until-expiring",
    ...(o.forceRenewal ? ["--force-renewal"] : []),
    ...domains,
  );
}

/** Options for {@link renderAcmeDeployHook}. */
export interface AcmeDeployHookOptions {
  /**
   * The folder of the stable certificate paths: `<tlsDir>/<app>/fullchain.pem` and `privkey.pem`.
   * @default "/etc/django-fleet/tls"
   */
  readonly tlsDir?: string;
}

/**
 * The script certbot runs after it issued or renewed a certificate (`--deploy-hook`, with
 * `RENEWED_LINEAGE=/etc/letsencrypt/live/<name>`): it installs the certificate and key as
 * app `<name>`'s, atomically, logs the new serial and expiry, and reloads nginx.
 */
export function renderAcmeDeployHook(o: AcmeDeployHookOptions = {}): string {
  const tlsDir = assertPath("acme deploy hook tlsDir", withDefault(o.tlsDir, ACME_TLS_DIR));
  return renderLines([
    "#!/bin/bash",
    managedHeader("#"),
    "# certbot's deploy hook: installs a certificate it issued or renewed as the certificate of",
    "# the app its lineage is named after, where that app's nginx site reads it.",
    "set -euo pipefail",
    "cd /",
    'lineage=${RENEWED_LINEAGE:-}',
    `if [ -z "$lineage" ]; then echo ${quote("RENEWED_LINEAGE is not set: certbot runs this script as its --deploy-hook")} >&2; exit 1; fi`,
    'name=${lineage%/}',
    'name=${name##*/}',
    // The lineage is named after the app (--cert-name): one plain path segment below.
    `if ! [[ $name =~ ${CERT_NAME.source} ]]; then echo "certificate lineage $lineage is not named after an app" >&2; exit 1; fi`,
    `dir=${quote(tlsDir)}/$name`,
    // 0700 root: the key is never readable by anyone else, not even while it is copied.
    'install -d -m 0700 -- "$dir"',
    'trap \'rm -f -- "$dir/fullchain.pem.new" "$dir/privkey.pem.new"\' EXIT',
    // Written beside the old files, then renamed over them: nginx never reads half a file.
    'install -m 0644 -- "$lineage/fullchain.pem" "$dir/fullchain.pem.new"',
    'install -m 0600 -- "$lineage/privkey.pem" "$dir/privkey.pem.new"',
    // A key that does not match its certificate would stop nginx at its next start. (Read
    // into variables first: a failing read there stops the script; inside [ ] it would not.)
    'cert_pub=$(openssl x509 -in "$dir/fullchain.pem.new" -noout -pubkey)',
    'key_pub=$(openssl pkey -in "$dir/privkey.pem.new" -pubout)',
    'if [ "$cert_pub" != "$key_pub" ]; then',
    '  echo "the key of $lineage does not match its certificate; nothing was installed" >&2',
    "  exit 1",
    "fi",
    'mv -f -- "$dir/privkey.pem.new" "$dir/privkey.pem"',
    'mv -f -- "$dir/fullchain.pem.new" "$dir/fullchain.pem"',
    'serial=$(openssl x509 -in "$dir/fullchain.pem" -noout -serial)',
    'expires=$(openssl x509 -in "$dir/fullchain.pem" -noout -enddate)',
    'logger -t django-fleet-acme "installed the certificate for $name (serial ${serial#serial=}, expires ${expires#notAfter=})"',
    // Reload, never restart: open connections finish on the old certificate. A stopped
    // nginx reads the new files when it starts.
    "if systemctl is-active --quiet nginx; then",
    "  nginx -t -q",
    "  systemctl reload nginx",
    "fi",
  ]);
}

/** Options for {@link renderCertbotDropIn}. */
export interface CertbotDropInOptions {
  /** A PEM CA bundle on the host that signs a private ACME server's HTTPS certificate. @default none */
  readonly caBundle?: string;
}

/**
 * A drop-in for Debian's certbot.service (`/etc/systemd/system/certbot.service.d/`), which
 * certbot.timer starts to renew: with a CA bundle, the renewals trust a private ACME
 * server as the first issue did. Without one there is nothing to add: undefined.
 */
export function renderCertbotDropIn(o: CertbotDropInOptions): string | undefined {
  if (o.caBundle === undefined) return undefined;
  // A checked path holds no `%` (a systemd specifier), space or quote.
  const caBundle = assertPath("certbot drop-in caBundle", o.caBundle);
  return renderLines([
    managedHeader("#"),
    "# certbot's renewals talk to a private ACME server, whose HTTPS certificate this CA signs.",
    "[Service]",
    `Environment=REQUESTS_CA_BUNDLE=${caBundle}`,
  ]);
}

/** Options for {@link acmeCertCheck}. */
export interface AcmeCertCheckOptions {
  /** The app's stable certificate path (see config/acme.ts `certPaths`). */
  readonly certPath: string;
  /** A certificate that expires within this many days is due (`openssl x509 -checkend`). */
  readonly renewBeforeDays: number;
  /** The placeholder's subject as `openssl x509 -subject -nameopt RFC2253` prints it, e.g. `CN=django-fleet-acme-placeholder`. */
  readonly placeholderSubject: string;
}

/**
 * A script that exits 0 only when the certificate at `certPath` exists, is not the
 * placeholder, and does not expire within `renewBeforeDays` days; any other exit means
 * the certificate must be issued (again).
 */
export function acmeCertCheck(o: AcmeCertCheckOptions): string {
  const cert = assertPath("acme check certPath", o.certPath);
  const days = assertInt("acme check renewBeforeDays", o.renewBeforeDays, 1, 89);
  const placeholder = assertMatches("acme check placeholderSubject", o.placeholderSubject,
    /^[A-Za-z]+=[A-Za-z0-9 ._-]+(?:,[A-Za-z]+=[A-Za-z0-9 ._-]+)*$/, "an RFC 2253 subject such as CN=django-fleet-acme-placeholder");
  // Each step exits by itself, so the check means the same with or without `set -e`.
  return script(
    `[ -s ${cmd(cert)} ] || exit 1`,
    `subject=$(${cmd("openssl", "x509", "-in", cert, "-noout", "-subject", "-nameopt", "RFC2253")}) || exit 1`,
    `[ "$subject" != ${quote(`subject=${placeholder}`)} ] || exit 1`,
    `${cmd("openssl", "x509", "-in", cert, "-noout", "-checkend", days * 86400)} >/dev/null`,
  );
}
