/**
 * loadBalancer.tls "acme", the pure parts: the named ACME servers, the stable certificate
 * paths, which host names certbot can get a certificate for, the certbot command (its
 * exact argv, as bash splits it), the deploy hook and the renewal check (both run here
 * against certificates made with openssl, with stub nginx/systemctl/logger), the certbot
 * drop-in, and the load balancer's packages.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  ACME_CA_BUNDLE,
  ACME_DEPLOY_HOOK,
  ACME_PLACEHOLDER_SUBJECT,
  ACME_SERVERS,
  ACME_WEBROOT,
  acmeDirectory,
  acmeDomainProblem,
  certPaths,
} from "../../config/acme.ts";
import { parseConfig } from "../../config/load.ts";
import { packagesFor } from "../../config/packages.ts";
import { MANAGED_NOTICE } from "../../lib/render.ts";
import {
  acmeCertCheck,
  certbotIssueCommand,
  renderAcmeDeployHook,
  renderCertbotDropIn,
  type CertbotIssueOptions,
} from "../../services/certbot/acme.ts";
import { expectGolden } from "../helpers/golden.ts";

const tmp = mkdtempSync(join(tmpdir(), "fleet-acme-test-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The argv bash makes of `command` (its words, unquoted), without running it. */
function argv(command: string): string[] {
  const out = execFileSync("bash", ["-c", `set -- ${command}; printf '%s\\0' "$@"`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

/** A stack config with loadBalancer set as given (parsed, defaults filled in). */
function stack(loadBalancer: Record<string, unknown>) {
  return parseConfig({
    "django-fleet:hosts": JSON.stringify([{ name: "lb", roles: ["loadBalancer"] }]),
    "django-fleet:app": JSON.stringify({ name: "shop", repo: "https://git.example/shop.git", settingsModule: "shop.settings", wsgiModule: "shop.wsgi:application" }),
    "django-fleet:loadBalancer": JSON.stringify(loadBalancer),
  });
}

describe("the ACME server", () => {
  it("production and staging are Let's Encrypt's directories; a URL is taken as it is", () => {
    expect(acmeDirectory("production")).toBe("https://acme-v02.api.letsencrypt.org/directory");
    expect(acmeDirectory("staging")).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
    expect(acmeDirectory("https://198.18.0.1:14000/dir")).toBe("https://198.18.0.1:14000/dir");
    expect(Object.keys(ACME_SERVERS)).toEqual(["production", "staging"]);
  });

  it("a name that is only an Object property is not a server", () => {
    expect(acmeDirectory("toString")).toBe("toString");
    expect(() => stack({ tls: "acme", acme: { email: "you@shop.example", server: "toString" } })).toThrow(/loadBalancer\.acme\.server/);
  });

  it("the config defaults to production and renewal 30 days before expiry", () => {
    const lb = stack({ tls: "acme", serverName: "shop.example", acme: { email: "you@shop.example" } }).loadBalancer;
    expect(lb.acme).toEqual({ email: "you@shop.example", server: "production", renewBeforeDays: 30 });
    expect(stack({}).loadBalancer.acme).toBeUndefined();
  });

  it.each([
    ["staging"],
    ["production"],
    ["https://198.18.0.1:14000/dir"],
    ["https://ca.internal/acme/acme/directory"],
    ["https://acme.example"],
  ])("accepts server %j", (server) => {
    expect(stack({ tls: "acme", acme: { email: "you@shop.example", server } }).loadBalancer.acme!.server).toBe(server);
  });

  it.each([
    ["plain http", "http://198.18.0.1:14000/dir"],
    ["a misspelt name", "prod"],
    ["a URL with a space", "https://acme.example/a dir"],
    ["a URL with a shell metacharacter", "https://acme.example/dir;reboot"],
    ["an option", "--server"],
    ["empty", ""],
  ])("refuses server: %s", (_name, server) => {
    expect(() => stack({ tls: "acme", acme: { email: "you@shop.example", server } })).toThrow(/loadBalancer\.acme\.server: must be "production", "staging" or the https:\/\/ URL of an ACME directory/);
  });
});

describe("the paths", () => {
  it("each app's certificate and key live at stable paths nginx reads", () => {
    expect(certPaths("shop")).toEqual({ certificatePath: "/etc/django-fleet/tls/shop/fullchain.pem", keyPath: "/etc/django-fleet/tls/shop/privkey.pem" });
    expect(ACME_WEBROOT).toBe("/var/lib/django-fleet/acme");
  });
});

describe("acmeDomainProblem: names certbot can get a certificate for over HTTP-01", () => {
  it.each([["shop.example"], ["www.shop.example"], ["a.b"], ["xn--caf-dma.example"], ["Shop.Example"], ["a-b.c-d.example"], [`${"a".repeat(63)}.example`]])("accepts %j", (name) => {
    expect(acmeDomainProblem(name)).toBeUndefined();
  });

  it.each([
    ["_", "is nginx's catch-all name (any host), which no certificate can name"],
    ["198.18.0.10", "is an IP address; tls \"acme\" gets certificates for DNS names only (point a DNS name at the load balancer)"],
    ["2001:db8::1", "is an IP address; tls \"acme\" gets certificates for DNS names only (point a DNS name at the load balancer)"],
    ["*.shop.example", "is a wildcard, which only the DNS-01 challenge can prove; tls \"acme\" answers HTTP-01 only, so list each name instead"],
    ["localhost", "has no dot; an ACME server issues certificates for fully qualified domain names only"],
    ["10.0.0", "ends with a label of digits only, which is no top-level domain"],
    ["a..b", "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash"],
    ["shop-.example", "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash"],
    ["-d.example", "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash"],
    ["shop.example.", "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash"],
    ["shop.example;reboot", "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash"],
    [`${"a".repeat(64)}.example`, "is not a DNS name: each dot-separated label must be 1-63 letters, digits or dashes, not starting or ending with a dash"],
    [`${"a.".repeat(127)}ab`, "is longer than 253 characters, the most a DNS name can have"],
  ])("refuses %j", (name, why) => {
    expect(acmeDomainProblem(name)).toBe(why);
  });
});

const ISSUE: CertbotIssueOptions = {
  certName: "shop",
  domains: ["shop.example", "www.shop.example"],
  email: "ops+acme@shop.example",
  directory: acmeDirectory("production"),
  webroot: ACME_WEBROOT,
  deployHook: ACME_DEPLOY_HOOK,
};

describe("certbotIssueCommand", () => {
  it("is the exact certbot certonly command", () => {
    expect(certbotIssueCommand(ISSUE)).toBe(
      "certbot certonly --non-interactive --agree-tos --no-eff-email --email ops+acme@shop.example"
      + " --server https://acme-v02.api.letsencrypt.org/directory --webroot -w /var/lib/django-fleet/acme"
      + " --cert-name shop --deploy-hook /usr/local/lib/django-fleet/acme-deploy-hook --keep-until-expiring"
      + " -d shop.example -d www.shop.example",
    );
  });

  it("forceRenewal adds --force-renewal before the names; a CA bundle runs it with REQUESTS_CA_BUNDLE", () => {
    const out = certbotIssueCommand({ ...ISSUE, forceRenewal: true, caBundle: ACME_CA_BUNDLE, directory: "https://198.18.0.1:14000/dir", domains: ["blog.example"] });
    expect(argv(out)).toEqual([
      "env", "REQUESTS_CA_BUNDLE=/etc/django-fleet/acme-ca.pem",
      "certbot", "certonly", "--non-interactive", "--agree-tos", "--no-eff-email", "--email", "ops+acme@shop.example",
      "--server", "https://198.18.0.1:14000/dir", "--webroot", "-w", "/var/lib/django-fleet/acme",
      "--cert-name", "shop", "--deploy-hook", "/usr/local/lib/django-fleet/acme-deploy-hook",
      "--keep-until-expiring", "--force-renewal", "-d", "blog.example",
    ]);
    expect(certbotIssueCommand({ ...ISSUE, forceRenewal: false })).toBe(certbotIssueCommand(ISSUE));
  });

  it("bash splits it into exactly the words given: each value one word, none read as an option", () => {
    const words = argv(certbotIssueCommand(ISSUE));
    expect(words.slice(words.indexOf("-d"))).toEqual(["-d", "shop.example", "-d", "www.shop.example"]);
    // Every value follows its option; none starts with a dash.
    for (const opt of ["--email", "--server", "-w", "--cert-name", "--deploy-hook", "-d"]) {
      for (const [i, w] of words.entries()) if (w === opt) expect(words[i + 1]!.startsWith("-"), `${opt} ${words[i + 1]}`).toBe(false);
    }
  });

  const refused: ReadonlyArray<readonly [string, Partial<CertbotIssueOptions>, RegExp]> = [
    ["no domains", { domains: [] }, /domains is empty/],
    ["a domain read as an option", { domains: ["-d.example"] }, /certbot domains\[0\] "-d\.example" is invalid: it is not a DNS name/],
    ["a domain with a command after it", { domains: ["shop.example", "x.example;reboot"] }, /certbot domains\[1\] "x\.example;reboot" is invalid/],
    ["a wildcard", { domains: ["*.shop.example"] }, /is a wildcard, which only the DNS-01 challenge can prove/],
    ["an IP address", { domains: ["198.18.0.10"] }, /is an IP address/],
    ["_", { domains: ["_"] }, /catch-all/],
    ["an email read as an option", { email: "--register-unsafely-without-email" }, /certbot email/],
    ["an email with a space", { email: "you @shop.example" }, /certbot email/],
    ["an email with a command substitution", { email: "$(reboot)@shop.example" }, /certbot email/],
    ["an email with a semicolon", { email: "you@shop.example;reboot" }, /certbot email/],
    ["an http directory", { directory: "http://acme.example/dir" }, /certbot directory/],
    ["a directory with a space", { directory: "https://acme.example/a b" }, /certbot directory/],
    ["a cert name with a dash first", { certName: "-shop" }, /certbot certName/],
    ["a cert name with a slash", { certName: "shop/../x" }, /certbot certName/],
    ["a relative webroot", { webroot: "acme" }, /certbot webroot/],
    ["a hook with arguments", { deployHook: "/usr/local/bin/hook --now" }, /certbot deployHook/],
    ["a CA bundle with a space", { caBundle: "/etc/ca bundle.pem" }, /certbot caBundle/],
  ];
  it.each(refused.map(([name, patch, error]) => ({ name, patch, error })))("refuses $name", ({ patch, error }) => {
    expect(() => certbotIssueCommand({ ...ISSUE, ...patch })).toThrow(error);
  });
});

describe("the config refuses what would reach certbot's command line", () => {
  it.each([
    ["a serverName with a shell command", { serverName: "shop.example;reboot", tls: "acme", acme: { email: "you@shop.example" } }, /loadBalancer\.serverName: must be host names/],
    ["an email with a command substitution", { serverName: "shop.example", tls: "acme", acme: { email: "$(reboot)@shop.example" } }, /loadBalancer\.acme\.email: must be an email address such as you@example\.com/],
    ["an email with a semicolon", { serverName: "shop.example", tls: "acme", acme: { email: "you@shop.example;reboot" } }, /loadBalancer\.acme\.email: must be an email address/],
    ["an email read as an option", { serverName: "shop.example", tls: "acme", acme: { email: "--agree-tos@shop.example" } }, /loadBalancer\.acme\.email: must be an email address/],
    ["an email with a space", { serverName: "shop.example", tls: "acme", acme: { email: "you @shop.example" } }, /loadBalancer\.acme\.email: must be an email address/],
  ])("%s", (_name, loadBalancer, error) => {
    expect(() => stack(loadBalancer)).toThrow(error);
  });
});

/** A rendered script: bash shebang, the notice, strict mode, and bash parses it whole. */
function expectScript(out: string): void {
  const lines = out.split("\n");
  expect(lines[0]).toBe("#!/bin/bash");
  expect(lines[1]).toBe(`# ${MANAGED_NOTICE}`);
  expect(lines).toContain("set -euo pipefail");
  expect(out.endsWith("\n")).toBe(true);
  const check = spawnSync("bash", ["-n"], { input: out, encoding: "utf8" });
  expect(check.stderr).toBe("");
  expect(check.status).toBe(0);
}

/** Makes a key and a self-signed certificate valid for `days` days, with subject `/CN=cn`. */
function makeCert(dir: string, cn: string, days: number, key?: string): { cert: string; key: string } {
  mkdirSync(dir, { recursive: true });
  const keyFile = key ?? join(dir, "privkey.pem");
  const certFile = join(dir, "fullchain.pem");
  if (key === undefined) execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", keyFile], { stdio: "ignore" });
  execFileSync("openssl", ["req", "-x509", "-new", "-key", keyFile, "-days", String(days), "-subj", `/CN=${cn}`, "-out", certFile], { stdio: "ignore" });
  return { cert: certFile, key: keyFile };
}

/** Stub commands the deploy hook calls; each appends its argv to `calls`. */
function stubBin(dir: string, calls: string, nginxActive = true): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  for (const name of ["logger", "nginx", "systemctl"]) {
    const status = name === "systemctl" && !nginxActive ? `case "$1" in is-active) exit 3;; esac\n` : "";
    writeFileSync(join(bin, name), `#!/bin/bash\nprintf '%s\\n' "${name} $*" >>${JSON.stringify(calls)}\n${status}exit 0\n`);
    chmodSync(join(bin, name), 0o755);
  }
  return bin;
}

describe("renderAcmeDeployHook", () => {
  it("renders the golden script, which bash parses", () => {
    const out = renderAcmeDeployHook();
    expectScript(out);
    expect(renderAcmeDeployHook()).toBe(out);
    expectGolden("acme-deploy-hook", out);
  });

  it("reloads nginx after nginx -t, and never restarts it", () => {
    const out = renderAcmeDeployHook();
    expect(out).toContain("\n  nginx -t -q\n  systemctl reload nginx\n");
    expect(out).not.toMatch(/restart/);
  });

  /** Runs the hook with tlsDir under `root`, for a lineage named `name`; returns its result and the stub calls. */
  function runHook(root: string, lineage: string | undefined, nginxActive = true) {
    const calls = join(root, "calls.log");
    mkdirSync(root, { recursive: true });
    writeFileSync(calls, "");
    const bin = stubBin(root, calls, nginxActive);
    const hook = join(root, "hook");
    writeFileSync(hook, renderAcmeDeployHook({ tlsDir: join(root, "tls") }));
    const env = { PATH: `${bin}:${process.env.PATH}`, ...(lineage === undefined ? {} : { RENEWED_LINEAGE: lineage }) };
    const r = spawnSync("bash", [hook], { env, encoding: "utf8" });
    return { ...r, calls: readFileSync(calls, "utf8").trim().split("\n").filter(Boolean) };
  }

  it("installs the lineage as the app's certificate: 0700 folder, 0644 chain, 0600 key; logs and reloads", () => {
    const root = join(tmp, "hook-ok");
    const live = join(root, "letsencrypt", "live", "shop");
    const made = makeCert(live, "shop.example", 90);
    const r = runHook(root, live);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const dir = join(root, "tls", "shop");
    expect(readFileSync(join(dir, "fullchain.pem"), "utf8")).toBe(readFileSync(made.cert, "utf8"));
    expect(readFileSync(join(dir, "privkey.pem"), "utf8")).toBe(readFileSync(made.key, "utf8"));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, "fullchain.pem")).mode & 0o777).toBe(0o644);
    expect(statSync(join(dir, "privkey.pem")).mode & 0o777).toBe(0o600);
    // No temporary file is left behind.
    expect(existsSync(join(dir, "fullchain.pem.new")) || existsSync(join(dir, "privkey.pem.new"))).toBe(false);
    const serial = execFileSync("openssl", ["x509", "-in", made.cert, "-noout", "-serial"], { encoding: "utf8" }).trim().replace(/^serial=/, "");
    const expires = execFileSync("openssl", ["x509", "-in", made.cert, "-noout", "-enddate"], { encoding: "utf8" }).trim().replace(/^notAfter=/, "");
    expect(r.calls).toEqual([
      `logger -t django-fleet-acme installed the certificate for shop (serial ${serial}, expires ${expires})`,
      "systemctl is-active --quiet nginx",
      "nginx -t -q",
      "systemctl reload nginx",
    ]);
  });

  it("a renewal replaces the previous certificate; a stopped nginx is not started or reloaded", () => {
    const root = join(tmp, "hook-renew");
    const live = join(root, "live", "blog");
    makeCert(live, "old.example", 90);
    expect(runHook(root, `${live}/`).status).toBe(0);
    const renewed = makeCert(live, "blog.example", 90);
    const r = runHook(root, live, false);
    expect(r.status).toBe(0);
    expect(readFileSync(join(root, "tls", "blog", "fullchain.pem"), "utf8")).toBe(readFileSync(renewed.cert, "utf8"));
    expect(r.calls.slice(1)).toEqual(["systemctl is-active --quiet nginx"]);
  });

  it("a key that does not match its certificate installs nothing and fails", () => {
    const root = join(tmp, "hook-mismatch");
    const live = join(root, "live", "shop");
    makeCert(live, "shop.example", 90);
    execFileSync("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", join(live, "privkey.pem")], { stdio: "ignore" });
    const r = runHook(root, live);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("does not match its certificate; nothing was installed");
    expect(existsSync(join(root, "tls", "shop", "fullchain.pem"))).toBe(false);
    expect(existsSync(join(root, "tls", "shop", "privkey.pem.new"))).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it("a lineage that is not a certificate installs nothing and fails", () => {
    const root = join(tmp, "hook-garbage");
    const live = join(root, "live", "shop");
    mkdirSync(live, { recursive: true });
    writeFileSync(join(live, "fullchain.pem"), "not a certificate\n");
    writeFileSync(join(live, "privkey.pem"), "not a key\n");
    const r = runHook(root, live);
    expect(r.status).not.toBe(0);
    expect(existsSync(join(root, "tls", "shop", "fullchain.pem"))).toBe(false);
    expect(existsSync(join(root, "tls", "shop", "fullchain.pem.new"))).toBe(false);
    expect(r.calls).toEqual([]);
  });

  it("refuses to run outside certbot, or for a lineage not named after an app", () => {
    const root = join(tmp, "hook-refused");
    const none = runHook(root, undefined);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("RENEWED_LINEAGE is not set");
    for (const name of ["shop-0001", "Shop", "..", "shop x"]) {
      const r = runHook(root, join(root, "live", name));
      expect(r.status, name).toBe(1);
      expect(r.stderr).toContain("is not named after an app");
    }
    expect(existsSync(join(root, "tls"))).toBe(false);
  });
});

describe("renderCertbotDropIn", () => {
  it("sets REQUESTS_CA_BUNDLE for certbot's timer renewals when a CA bundle is given", () => {
    const out = renderCertbotDropIn({ caBundle: ACME_CA_BUNDLE })!;
    expect(out.split("\n")[0]).toBe(`# ${MANAGED_NOTICE}`);
    expect(out).toContain("\n[Service]\nEnvironment=REQUESTS_CA_BUNDLE=/etc/django-fleet/acme-ca.pem\n");
    expectGolden("certbot-drop-in-ca", out);
  });

  it("is nothing without one", () => {
    expect(renderCertbotDropIn({})).toBeUndefined();
  });

  it("refuses a path systemd would read differently", () => {
    expect(() => renderCertbotDropIn({ caBundle: "/etc/%h/ca.pem" })).toThrow(/caBundle/);
    expect(() => renderCertbotDropIn({ caBundle: "/etc/ca.pem\nExecStartPre=/bin/true" })).toThrow(/caBundle/);
  });
});

describe("acmeCertCheck", () => {
  const check = (certPath: string, renewBeforeDays = 30) => acmeCertCheck({ certPath, renewBeforeDays, placeholderSubject: ACME_PLACEHOLDER_SUBJECT });
  /** Exit status of the check, run as the providers run scripts (`bash -euo pipefail -s`) and without strict mode. */
  function status(certPath: string, renewBeforeDays = 30): number {
    const strict = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: check(certPath, renewBeforeDays), encoding: "utf8" });
    const plain = spawnSync("bash", ["-s"], { input: check(certPath, renewBeforeDays), encoding: "utf8" });
    expect(plain.status).toBe(strict.status);
    return strict.status!;
  }

  it("renders the golden script", () => {
    const out = check(certPaths("shop").certificatePath);
    expect(out).toBe([
      "[ -s /etc/django-fleet/tls/shop/fullchain.pem ] || exit 1",
      "subject=$(openssl x509 -in /etc/django-fleet/tls/shop/fullchain.pem -noout -subject -nameopt RFC2253) || exit 1",
      "[ \"$subject\" != subject=CN=django-fleet-acme-placeholder ] || exit 1",
      "openssl x509 -in /etc/django-fleet/tls/shop/fullchain.pem -noout -checkend 2592000 >/dev/null",
      "",
    ].join("\n"));
    expectGolden("acme-cert-check", out);
  });

  it("passes only for a real certificate that does not expire within renewBeforeDays", () => {
    const real = makeCert(join(tmp, "check-real"), "shop.example", 60).cert;
    const dueSoon = makeCert(join(tmp, "check-due"), "shop.example", 10).cert;
    const placeholder = makeCert(join(tmp, "check-placeholder"), "django-fleet-acme-placeholder", 3650).cert;
    const garbage = join(tmp, "garbage.pem");
    writeFileSync(garbage, "not a certificate\n");
    expect(status(real)).toBe(0);
    expect(status(real, 89)).toBe(1);
    expect(status(dueSoon)).toBe(1);
    expect(status(dueSoon, 9)).toBe(0);
    expect(status(placeholder)).toBe(1);
    expect(status(garbage)).toBe(1);
    expect(status(join(tmp, "missing.pem"))).toBe(1);
  });

  it("the placeholder's subject is what openssl prints for a certificate made with -subj /CN=django-fleet-acme-placeholder", () => {
    const placeholder = makeCert(join(tmp, "subject"), "django-fleet-acme-placeholder", 1).cert;
    expect(execFileSync("openssl", ["x509", "-in", placeholder, "-noout", "-subject", "-nameopt", "RFC2253"], { encoding: "utf8" }).trim())
      .toBe(`subject=${ACME_PLACEHOLDER_SUBJECT}`);
  });

  it("refuses bad input", () => {
    expect(() => check("fullchain.pem")).toThrow(/certPath/);
    expect(() => check("/etc/x.pem", 0)).toThrow(/renewBeforeDays/);
    expect(() => check("/etc/x.pem", 90)).toThrow(/renewBeforeDays/);
    expect(() => acmeCertCheck({ certPath: "/etc/x.pem", renewBeforeDays: 30, placeholderSubject: "CN=x'; reboot; '" })).toThrow(/placeholderSubject/);
  });
});

describe("packages", () => {
  it("the load balancer gets certbot with tls acme, and only then", () => {
    const acme = stack({ tls: "acme", serverName: "shop.example", acme: { email: "you@shop.example" } });
    expect(packagesFor(new Set(["loadBalancer"]), acme)).toContain("certbot");
    expect(packagesFor(new Set(["app", "worker"]), acme)).not.toContain("certbot");
    for (const tls of ["none", "selfSigned"]) expect(packagesFor(new Set(["loadBalancer"]), stack({ tls }))).not.toContain("certbot");
  });
});
