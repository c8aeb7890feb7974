/**
 * The scripts behind the log shipping's TLS: a per-stack CA on the logging host, a key
 * per host made on that host, and certificates the CA issues for them. Pure.
 *
 * Where the secrets live: the CA key is made on the logging host, in a root-only 0700
 * directory, 0600, and never leaves it; each host's key is made on the host, 0600, and
 * never leaves it. Only public material travels through the machine running Pulumi: a
 * host's certificate request goes to the CA, the certificate and the CA certificate come
 * back. None of these scripts prints or passes a key on a command line.
 *
 * Each script is a "make sure, then read" step for a RemoteProbe: it makes what is
 * missing, expired (within {@link RENEW_SECONDS}) or no longer matching, and prints the
 * public result as its fact. Running it again changes nothing, so `up` is a no-op when
 * all is in place, and `refresh` renews what it finds missing or expiring, which the
 * next preview shows as a new certificate to install.
 */
import { shortHash } from "../../lib/hash.ts";
import { assertName } from "../../lib/render.ts";
import { cmd, heredoc, script } from "../../lib/shell.ts";

/** Where every host keeps its TLS files for rsyslog (root only). */
export const TLS_DIR = "/etc/fleet-log-tls";
/** Where the logging host keeps the CA (root only, 0700; the key 0600). */
export const CA_DIR = "/etc/fleet-log-ca";
/**
 * The name the logging server's certificate carries and the hosts check. It has a dot,
 * which host names cannot have, so no host's own certificate can carry it.
 */
export const SERVER_NAME = "logging.fleet";
/** A certificate within 30 days of expiry is renewed. */
export const RENEW_SECONDS = 30 * 24 * 3600;

/** The files on every host, and the logging server's own pair. */
export const tlsFiles = {
  ca: `${TLS_DIR}/ca.crt`,
  hostKey: `${TLS_DIR}/host.key`,
  hostCsr: `${TLS_DIR}/host.csr`,
  hostCert: `${TLS_DIR}/host.crt`,
  serverKey: `${TLS_DIR}/server.key`,
  serverCert: `${TLS_DIR}/server.crt`,
} as const;

const CA_KEY = `${CA_DIR}/ca.key`;
const CA_CERT = `${CA_DIR}/ca.crt`;

/** A minimal openssl config: the distro's may add extensions we do not want. */
const OPENSSL_CNF = [
  "[req]", "distinguished_name = dn", "[dn]",
  "[ca]", "basicConstraints = critical,CA:TRUE", "keyUsage = critical,keyCertSign,cRLSign", "subjectKeyIdentifier = hash",
  "[client]", "basicConstraints = critical,CA:FALSE", "keyUsage = critical,digitalSignature", "extendedKeyUsage = clientAuth",
  "[server]", "basicConstraints = critical,CA:FALSE", "keyUsage = critical,digitalSignature", "extendedKeyUsage = serverAuth",
  `subjectAltName = DNS:${SERVER_NAME}`,
].join("\n");

/** Shell functions the scripts share: a key maker, and tests on a certificate. */
function prelude(): string[] {
  return [
    // Keys are born 0600 (the umask), and tmp files too.
    "umask 077",
    `cnf=$(mktemp); trap 'rm -f "$cnf"' EXIT; cat > "$cnf" ${heredoc(OPENSSL_CNF)}`,
    // EC P-256: small and fast on small hosts; GnuTLS (rsyslog's gtls) takes it.
    "newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out \"$1.new\" 2>/dev/null && mv -f \"$1.new\" \"$1\"; }",
    // The public key of a private key file, or of a public key file.
    "pub() { openssl pkey -in \"$1\" -pubout 2>/dev/null || openssl pkey -pubin -in \"$1\" -pubout 2>/dev/null; }",
    "certpub() { openssl x509 -in \"$1\" -noout -pubkey 2>/dev/null; }",
    // fresh CERT KEY [CA]: the certificate exists, is not near expiry, belongs to the key, and the CA signed it.
    `fresh() { [ -s "$1" ] && [ -s "$2" ] && openssl x509 -in "$1" -noout -checkend ${RENEW_SECONDS} >/dev/null 2>&1 && [ "$(certpub "$1")" = "$(pub "$2")" ] && { [ -z "\${3:-}" ] || openssl verify -CAfile "$3" "$1" >/dev/null 2>&1; }; }`,
    // Prints a PEM file as a JSON string on the fact line (PEM has no quotes or backslashes).
    `fact() { printf 'FLEET_FACT="%s"\\n' "$(awk '{printf "%s\\\\n", $0}' "$1")"; }`,
  ];
}

/**
 * On the logging host: makes the CA if it is missing, expiring or its key lost, and
 * prints its certificate. A new CA drops the certificates the old one issued.
 */
export function caScript(stack: string): string {
  // A stack name may hold dots; the subject only names the CA for people.
  const subject = `/O=django-fleet/CN=${stack.replace(/[^A-Za-z0-9_.-]/g, "_")} logs CA`;
  return script(
    ...prelude(),
    `install -d -m 0700 ${cmd(CA_DIR)} ${cmd(`${CA_DIR}/issued`)}`,
    `if ! fresh ${cmd(CA_CERT)} ${cmd(CA_KEY)}; then`,
    `  newkey ${cmd(CA_KEY)}`,
    `  openssl req -x509 -new -key ${cmd(CA_KEY)} -subj ${cmd(subject)} -days 3650 -sha256 -config "$cnf" -extensions ca -out ${cmd(`${CA_CERT}.new`)}`,
    `  mv -f ${cmd(`${CA_CERT}.new`)} ${cmd(CA_CERT)}`,
    `  rm -f ${cmd(CA_DIR)}/issued/*`,
    "fi",
    `fact ${cmd(CA_CERT)}`,
  );
}

/**
 * On the logging host: its server key (made there) and a certificate from the CA for
 * {@link SERVER_NAME}, renewed when missing, expiring, not the key's or not the CA's.
 * `caCert` is only there so a new CA runs this again.
 */
export function serverCertScript(caCert: string): string {
  const { serverKey, serverCert } = tlsFiles;
  return script(
    `# for the CA ${caFingerprintComment(caCert)}`,
    ...prelude(),
    `install -d -m 0700 ${cmd(TLS_DIR)}`,
    `openssl pkey -in ${cmd(serverKey)} -noout 2>/dev/null || newkey ${cmd(serverKey)}`,
    `if ! fresh ${cmd(serverCert)} ${cmd(serverKey)} ${cmd(CA_CERT)}; then`,
    '  csr=$(mktemp)',
    `  openssl req -new -key ${cmd(serverKey)} -subj ${cmd(`/CN=${SERVER_NAME}`)} -config "$cnf" -out "$csr"`,
    ...signLines(serverCert, `/CN=${SERVER_NAME}`, "server"),
    '  rm -f "$csr"',
    "fi",
    `fact ${cmd(serverCert)}`,
  );
}

/**
 * On any host: its own key (made there, never leaving it) and a certificate request for
 * it, remade when missing or not the key's; prints the request.
 */
export function hostCsrScript(host: string): string {
  const name = hostName(host);
  const { hostKey, hostCsr } = tlsFiles;
  return script(
    ...prelude(),
    `install -d -m 0700 ${cmd(TLS_DIR)}`,
    `openssl pkey -in ${cmd(hostKey)} -noout 2>/dev/null || newkey ${cmd(hostKey)}`,
    `if [ "$(openssl req -in ${cmd(hostCsr)} -noout -pubkey 2>/dev/null)" != "$(pub ${cmd(hostKey)})" ]; then`,
    `  openssl req -new -key ${cmd(hostKey)} -subj ${cmd(`/CN=${name}`)} -config "$cnf" -out ${cmd(`${hostCsr}.new`)}`,
    `  mv -f ${cmd(`${hostCsr}.new`)} ${cmd(hostCsr)}`,
    "fi",
    `fact ${cmd(hostCsr)}`,
  );
}

/**
 * On the logging host: the certificate the CA issued for `host`'s request, issued anew
 * when there is none, it expires soon, or it is not for the request's key. The subject
 * and extensions are the CA's choice, not the request's: a host cannot ask for the
 * server's name. `caCert` is only there so a new CA runs this again.
 */
export function issueScript(host: string, csr: string, caCert: string): string {
  const name = hostName(host);
  const issued = `${CA_DIR}/issued/${name}`;
  if (!/^-----BEGIN CERTIFICATE REQUEST-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE REQUEST-----\n?$/.test(csr)) {
    throw new Error(`the certificate request read from ${name} is not a PEM request`);
  }
  return script(
    `# for the CA ${caFingerprintComment(caCert)}`,
    ...prelude(),
    `csr=${cmd(`${issued}.csr`)}`,
    `cat > "$csr" ${heredoc(csr)}`,
    // Only a request signed by its own key (so made by who holds the key) is signed.
    `openssl req -in "$csr" -noout -verify >/dev/null 2>&1 || { echo "the request from ${name} does not verify" >&2; exit 1; }`,
    `openssl req -in "$csr" -noout -pubkey > ${cmd(`${issued}.pub`)}`,
    `if ! fresh ${cmd(`${issued}.crt`)} ${cmd(`${issued}.pub`)} ${cmd(CA_CERT)}; then`,
    ...signLines(`${issued}.crt`, `/CN=${name}`, "client"),
    "fi",
    `fact ${cmd(`${issued}.crt`)}`,
  );
}

/** Signs `$csr` with the CA into `out` (via a .new file), subject and extensions forced. */
function signLines(out: string, subject: string, ext: "client" | "server"): string[] {
  return [
    `  openssl x509 -req -in "$csr" -CA ${cmd(CA_CERT)} -CAkey ${cmd(CA_KEY)} -set_serial "0x$(openssl rand -hex 16)" -days 825 -sha256 -subj ${cmd(subject)} -extfile "$cnf" -extensions ${ext} -out ${cmd(`${out}.new`)} 2>/dev/null`,
    `  chmod 0644 ${cmd(`${out}.new`)}`,
    `  mv -f ${cmd(`${out}.new`)} ${cmd(out)}`,
  ];
}

/** A host name as a certificate subject: a plain name, never the server's. */
function hostName(host: string): string {
  return assertName("host name", host);
}

/** A short hash of the CA certificate, so the script (and so the step) changes with the CA. */
function caFingerprintComment(caCert: string): string {
  return shortHash(caCert);
}
