/**
 * The log shipping's TLS scripts (services/rsyslog/logTls.ts): what they contain, and what
 * they do when run with this machine's bash and openssl against a scratch directory (the
 * same commands the hosts run; only the two directories are moved).
 */
import { describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CA_DIR, caScript, hostCsrScript, issueScript, SERVER_NAME, serverCertScript, TLS_DIR } from "../../services/rsyslog/logTls.ts";
import { parseFact } from "../../providers/remoteProbe.ops.ts";

const CSR = "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAA\n-----END CERTIFICATE REQUEST-----\n";
const CA = "-----BEGIN CERTIFICATE-----\nMIIBBBBB\n-----END CERTIFICATE-----\n";

describe("log TLS scripts: contents", () => {
  it.each([
    ["the CA", caScript("prod")],
    ["the server certificate", serverCertScript(CA)],
    ["a host's key and request", hostCsrScript("app1")],
    ["a host's certificate", issueScript("app1", CSR, CA)],
  ])("%s: deterministic, a fact printed, no key material, keys born 0600", (_what, body) => {
    expect(body).toContain("umask 077");
    expect(body).toContain("fact ");
    expect(body).not.toContain("PRIVATE KEY");
    // Keys are only ever named as files (-key/-out/-in), never passed as values.
    expect(body).not.toMatch(/-passin|-passout|pass:/);
  });

  it("a new CA changes the scripts that depend on it", () => {
    const other = CA.replace("BBBBB", "CCCCC");
    expect(serverCertScript(other)).not.toBe(serverCertScript(CA));
    expect(issueScript("app1", CSR, other)).not.toBe(issueScript("app1", CSR, CA));
  });

  it.each([
    ["a dotted host name (the server's name)", () => hostCsrScript(SERVER_NAME), /host name/],
    ["a host name with a slash", () => issueScript("a/b", CSR, CA), /host name/],
    ["a request that is not PEM", () => issueScript("app1", "hello\nFLEET_EOF\nrm -rf /\n", CA), /not a PEM request/],
    ["a certificate passed as the request", () => issueScript("app1", CA, CA), /not a PEM request/],
  ])("refuses %s", (_what, build, error) => {
    expect(build).toThrow(error);
  });
});

describe("log TLS scripts: run with openssl", () => {
  const root = mkdtempSync(join(tmpdir(), "log-tls-"));
  const moved = (body: string) => body.replaceAll(CA_DIR, join(root, "ca")).replaceAll(TLS_DIR, join(root, "tls"));
  const run = (body: string): string => parseFact(execFileSync("bash", ["-euo", "pipefail", "-s"], { input: moved(body), encoding: "utf8" })) as string;
  const x509 = (pem: string, ...args: string[]) => execFileSync("openssl", ["x509", "-noout", ...args], { input: pem, encoding: "utf8" });

  it("makes a CA, a server and a host certificate once, then changes nothing", () => {
    try {
      const ca = run(caScript("e2e-prod"));
      expect(x509(ca, "-subject")).toContain("e2e-prod logs CA");
      expect(statSync(join(root, "ca", "ca.key")).mode & 0o777).toBe(0o600);
      expect(statSync(join(root, "ca")).mode & 0o777).toBe(0o700);
      const server = run(serverCertScript(ca));
      expect(x509(server, "-ext", "subjectAltName")).toContain(`DNS:${SERVER_NAME}`);
      const csr = run(hostCsrScript("app1"));
      expect(statSync(join(root, "tls", "host.key")).mode & 0o777).toBe(0o600);
      const cert = run(issueScript("app1", csr, ca));
      expect(x509(cert, "-subject")).toMatch(/CN ?= ?app1/);
      expect(x509(cert, "-ext", "extendedKeyUsage")).toContain("Client Authentication");
      // Again: the same CA, request and certificates (a second `up` is a no-op).
      expect(run(caScript("e2e-prod"))).toBe(ca);
      expect(run(serverCertScript(ca))).toBe(server);
      expect(run(hostCsrScript("app1"))).toBe(csr);
      expect(run(issueScript("app1", csr, ca))).toBe(cert);

      // A lost host key: a new key, so a new request, so a new certificate for it.
      unlinkSync(join(root, "tls", "host.key"));
      const csr2 = run(hostCsrScript("app1"));
      expect(csr2).not.toBe(csr);
      const cert2 = run(issueScript("app1", csr2, ca));
      expect(cert2).not.toBe(cert);
      const keyPub = execFileSync("openssl", ["pkey", "-in", join(root, "tls", "host.key"), "-pubout"], { encoding: "utf8" });
      expect(x509(cert2, "-pubkey")).toBe(keyPub);

      // A certificate within 30 days of its end is issued again.
      const issued = join(root, "ca", "issued", "app1");
      execFileSync("openssl", ["x509", "-req", "-in", `${issued}.csr`, "-CA", join(root, "ca", "ca.crt"), "-CAkey", join(root, "ca", "ca.key"),
        "-set_serial", "7", "-days", "10", "-subj", "/CN=app1", "-out", `${issued}.crt`], { stdio: "ignore" });
      const short = readFileSync(`${issued}.crt`, "utf8");
      const renewed = run(issueScript("app1", csr2, ca));
      expect(renewed).not.toBe(short);
      expect(() => x509(renewed, "-checkend", String(60 * 24 * 3600))).not.toThrow();

      // A lost CA key: a new CA, and the server certificate is issued again under it.
      unlinkSync(join(root, "ca", "ca.key"));
      const ca2 = run(caScript("e2e-prod"));
      expect(ca2).not.toBe(ca);
      const server2 = run(serverCertScript(ca2));
      expect(server2).not.toBe(server);
      expect(x509(server2, "-issuer")).toContain("e2e-prod logs CA");
      expect(readFileSync(join(root, "ca", "ca.crt"), "utf8")).toBe(ca2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
