/**
 * End to end, certificates from a real ACME server: pebble (Let's Encrypt's test server)
 * on the test bridge, its DNS answering the site's names with the load balancer's
 * address, so pebble's HTTP-01 checks reach our nginx for real; certbot on one freshly
 * booted Debian 13 server holding every role. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { execFileSync, spawnSync } from "node:child_process";
import type { TestStack } from "../helpers/pulumi.ts";
import { changes, stepRecorder } from "../helpers/steps.ts";
import { startAcmeServer, type AcmeServer } from "../helpers/acme.ts";
import { INVENTORY, startRealStack, stopRealStack, type Fleet } from "../helpers/testhosts.ts";

const HOST = "acme13";
const ADDRESS = "198.18.0.10";
const CERT = "/etc/django-fleet/tls/fleetdemo/fullchain.pem";

let pebble: AcmeServer | undefined;

function config(names: string, server?: string): Record<string, { value: string }> {
  const c = (v: unknown) => ({ value: typeof v === "string" ? v : JSON.stringify(v) });
  return {
    "django-fleet:inventoryFile": c(INVENTORY),
    "django-fleet:hosts": c([{ name: HOST, roles: ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] }]),
    "django-fleet:app": c({
      name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git",
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      gunicorn: { workers: 2 },
    }),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
    "django-fleet:loadBalancer": c({
      serverName: names, tls: "acme",
      acme: { email: "ops@shop.example", server: server ?? pebble!.directory, caFile: pebble!.caFile },
    }),
  };
}

/** curl to the load balancer under shop.example, verifying HTTPS against pebble's root. */
function curl(args: string[]): { code: number; out: string } {
  const r = spawnSync("curl", ["-sS", "--max-time", "10", "--cacert", pebble!.rootFile,
    "--resolve", `shop.example:443:${ADDRESS}`, "--resolve", `shop.example:80:${ADDRESS}`, ...args], { encoding: "utf8" });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

/** The serial of the certificate nginx serves for shop.example. */
function servedSerial(): string {
  const pem = execFileSync("bash", ["-c", `openssl s_client -connect ${ADDRESS}:443 -servername shop.example </dev/null 2>/dev/null | openssl x509 -noout -serial`], { encoding: "utf8" });
  return pem.trim();
}

describe("certificates from a real ACME server (pebble), renewed by certbot's timer", () => {
  let fleet: Fleet;
  let t: TestStack;
  let output = "";
  const log = (s: string) => { output += s; };
  const on = (s: string) => fleet.ssh(HOST, s);

  beforeAll(async () => {
    ({ fleet, t } = await startRealStack([HOST], "e2e-acme", {}));
    pebble = startAcmeServer(ADDRESS);
    await t.stack.setAllConfig(config("shop.example"));
  }, 900_000);
  afterAll(async () => {
    await stopRealStack(fleet, t, log);
    pebble?.stop();
  }, 600_000);

  it("up issues a certificate from the ACME server, and HTTPS answers with it", async () => {
    const started = Date.now();
    const res = await t.stack.up({ onOutput: log });
    console.log(`acme: first up with issuance on a bare Debian 13 server: ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(res.summary.result).toBe("succeeded");
    expect(res.outputs.siteUrl!.value).toBe("https://shop.example/");
    expect(await on(`openssl x509 -in ${CERT} -noout -issuer`)).toMatch(/Pebble Intermediate/);
    // Verified against pebble's root: the chain nginx serves is the issued one.
    const page = curl(["https://shop.example/"]);
    expect(page.code, page.out).toBe(0);
    expect(page.out).toContain('class="note"');
  }, 900_000);

  it("HTTP redirects to HTTPS, except the challenge path", async () => {
    const r = curl(["-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", "http://shop.example/notes?x=1"]);
    expect(r.out).toBe("301 https://shop.example/notes?x=1");
    await on("install -d /var/lib/django-fleet/acme/.well-known/acme-challenge && echo probe-answer > /var/lib/django-fleet/acme/.well-known/acme-challenge/probe-token");
    const challenge = curl(["http://shop.example/.well-known/acme-challenge/probe-token"]);
    expect(challenge.out.trim()).toBe("probe-answer");
    await on("rm -f /var/lib/django-fleet/acme/.well-known/acme-challenge/probe-token");
  }, 60_000);

  it("a renewal through certbot's timer service installs a new certificate, and nginx serves it without a restart", async () => {
    const serialBefore = servedSerial();
    const pidBefore = (await on("systemctl show -p MainPID --value nginx")).trim();
    // Due now by its own rule: the same service the timer starts, unchanged.
    await on("sed -i 's/^renew_before_expiry.*/renew_before_expiry = 3650 days/' /etc/letsencrypt/renewal/fleetdemo.conf");
    await on("systemctl start certbot.service || { journalctl -u certbot -n 40 --no-pager -o cat >&2; exit 1; }");
    await on("sed -i 's/^renew_before_expiry.*/renew_before_expiry = 30 days/' /etc/letsencrypt/renewal/fleetdemo.conf");
    const serialAfter = servedSerial();
    expect(serialAfter).toMatch(/^serial=/);
    expect(serialAfter).not.toBe(serialBefore);
    expect((await on(`openssl x509 -in ${CERT} -noout -serial`)).trim()).toBe(serialAfter);
    expect((await on("systemctl show -p MainPID --value nginx")).trim()).toBe(pidBefore);
    // The renewal is in the journal (and so on the logging host).
    expect(await on("journalctl -t django-fleet-acme --no-pager -o cat")).toMatch(/installed the certificate for fleetdemo \(serial/);
    expect(await changes(t, log)).toEqual([]);
  }, 300_000);

  it("a deleted certificate is found by refresh and put back by up", async () => {
    const serial = (await on(`openssl x509 -in ${CERT} -noout -serial`)).trim();
    await on("rm -f /etc/django-fleet/tls/fleetdemo/fullchain.pem /etc/django-fleet/tls/fleetdemo/privkey.pem");
    await t.stack.refresh({ onOutput: log });
    const found = await changes(t, log);
    expect(found).toContain("update lb-acme-certificate-fleetdemo");
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    // certbot's own copy was still good: installed again, no new order.
    expect((await on(`openssl x509 -in ${CERT} -noout -serial`)).trim()).toBe(serial);
    expect(servedSerial()).toBe(serial);
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);

  it("an issuance that fails leaves nginx serving the certificate it served, and up names the failure", async () => {
    const serial = servedSerial();
    // A new name (so a new certificate is due) from an ACME server that does not answer.
    await t.stack.setAllConfig(config("shop.example www.shop.example", "https://198.18.0.1:14999/dir"));
    const rec = stepRecorder();
    const err = await t.stack.up({ onOutput: log, onEvent: rec.onEvent }).then(() => "", (e: Error) => e.message);
    expect(err).toContain("lb-acme-certificate-fleetdemo");
    expect(servedSerial()).toBe(serial);
    expect(curl(["https://shop.example/"]).out).toContain('class="note"');
    // Back to the working server and names: up converges, and nothing is left to do.
    await t.stack.setAllConfig(config("shop.example"));
    const res = await t.stack.up({ onOutput: log });
    expect(res.summary.result).toBe("succeeded");
    expect(await changes(t, log)).toEqual([]);
  }, 600_000);
});
