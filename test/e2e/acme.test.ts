/**
 * End to end, certificates from a real ACME server: pebble (Let's Encrypt's test server)
 * on the test bridge, its DNS answering the site's names with the load balancer's
 * address, so pebble's HTTP-01 checks reach our nginx for real; certbot on one freshly
 * booted Debian 13 server holding every role. Nothing is mocked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { run } from "../../providers/ssh.ts";
import type { TestStack } from "../helpers/pulumi.ts";
import { stepRecorder } from "../helpers/steps.ts";
import { startAcmeServer, type AcmeServer } from "../helpers/acme.ts";
import { INVENTORY, startRealStack, stopRealStack, type Fleet } from "../helpers/testhosts.ts";
import { waitFor, within } from "../helpers/wait.ts";

const HOST = "acme13";
const ADDRESS = "198.18.0.10";
const CERT = "/etc/django-fleet/tls/fleetdemo/fullchain.pem";
const RENEWAL = "/etc/letsencrypt/renewal/fleetdemo.conf";

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

/** curl to the load balancer under shop.example, verifying HTTPS against pebble's root (curl bounds itself). */
function curl(args: string[]): { code: number; out: string } {
  const r = spawnSync("curl", ["-sS", "--connect-timeout", "5", "--max-time", "10", "--cacert", pebble!.rootFile,
    "--resolve", `shop.example:443:${ADDRESS}`, "--resolve", `shop.example:80:${ADDRESS}`, ...args], { encoding: "utf8", timeout: 15_000 });
  return { code: r.status ?? -1, out: r.stdout + r.stderr + (r.error ? `\ncurl: ${r.error.message}` : "") };
}

/** The serial (`serial=...`) of the certificate nginx serves for shop.example; a TLS handshake of at most 10 s. */
function servedSerial(): string {
  const r = spawnSync("bash", ["-c", `timeout 10 openssl s_client -connect ${ADDRESS}:443 -servername shop.example </dev/null 2>/dev/null | openssl x509 -noout -serial`],
    { encoding: "utf8", timeout: 15_000 });
  const serial = r.stdout?.trim() ?? "";
  if (!serial.startsWith("serial=")) {
    throw new Error(`no certificate from nginx for shop.example at ${ADDRESS}:443 within 10 s (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr?.trim() ?? ""}`);
  }
  return serial;
}

describe("certificates from a real ACME server (pebble), renewed by certbot's timer", () => {
  let fleet: Fleet;
  let t: TestStack;
  let output = "";
  const log = (s: string) => { output += s; };
  /** A script on the host as root (stdout); fails naming `what` when it fails or takes over `ms`. */
  const on = async (s: string, what = "a test command", ms = 20_000) =>
    (await run(fleet.connection(HOST), s, { step: what, timeoutMs: ms })).stdout;
  const up = (what: string, ms: number, onEvent?: ReturnType<typeof stepRecorder>["onEvent"]) =>
    within(`pulumi up (${what})`, ms, (signal) => t.stack.up({ onOutput: log, onEvent, signal }));
  const setConfig = (names: string, server?: string) =>
    within("pulumi config set", 60_000, () => t.stack.setAllConfig(config(names, server)));
  /** Previews; the sorted resources that would change (empty: nothing to do). */
  const changes = async (): Promise<string[]> => {
    const rec = stepRecorder();
    await within("pulumi preview", 180_000, (signal) => t.stack.preview({ onEvent: rec.onEvent, onOutput: log, signal }));
    return rec.steps.sort();
  };

  beforeAll(async () => {
    ({ fleet, t } = await startRealStack([HOST], "e2e-acme", {}));
    pebble = startAcmeServer(ADDRESS);
    await setConfig("shop.example");
  }, 900_000);
  afterAll(async () => {
    try {
      await stopRealStack(fleet, t, log);
    } finally {
      pebble?.stop();
    }
  }, 600_000);

  it("up issues a certificate from the ACME server, and HTTPS answers with it", async () => {
    const started = Date.now();
    const res = await up("first, with issuance", 840_000);
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
    // Due now by certbot's own rule: Debian 13's certbot (4.0, no ARI) renews a lineage when
    // notAfter < now + renew_before_expiry, and pebble's certificates live 90 days. Then the
    // same service the timer starts, unchanged.
    // The timer itself is held meanwhile: a run it started (at a random time) would make
    // `systemctl start` wait for that run instead of starting one that sees the new rule.
    const due = "renew_before_expiry = 3650 days";
    // (A oneshot service is "activating" while it runs.)
    await on(["systemctl stop certbot.timer", "for _ in $(seq 600); do",
      '  case "$(systemctl show -p ActiveState --value certbot.service)" in activating | deactivating) sleep 0.2 ;; *) exit 0 ;; esac',
      "done", "echo 'certbot.service still running after 120 s' >&2; exit 1"].join("\n"),
      "certbot.timer stopped and no run of certbot.service going", 150_000);
    let finished = 0;
    try {
      await on(`sed -i 's/^renew_before_expiry.*/${due}/' ${RENEWAL} && grep -qx '${due}' ${RENEWAL}`,
        "making the certificate due (renew_before_expiry = 3650 days)");
      await on("systemctl start certbot.service || { journalctl -u certbot -n 40 --no-pager -o cat >&2; exit 1; }",
        "certbot.service (certbot renew, as certbot.timer starts it)", 180_000);
      finished = Date.now();
    } finally {
      await on(`sed -i 's/^renew_before_expiry.*/renew_before_expiry = 30 days/' ${RENEWAL} && systemctl start certbot.timer`,
        "renew_before_expiry back to 30 days, certbot.timer started again");
    }
    // certbot renewed, and its deploy hook installed the new certificate where nginx reads it.
    const installed = (await on(`openssl x509 -in ${CERT} -noout -serial`)).trim();
    if (installed === serialBefore) {
      // certbot -q logs nothing to the journal; its own log (this run's: it rotates at each start) tells.
      const why = await on("grep -hE 'Should renew|due for renewal|not yet due|Renewing|deploy|error' /var/log/letsencrypt/letsencrypt.log | tail -n 8");
      throw new Error(`certbot.service installed no new certificate (still ${installed}); certbot's log says:\n${why}`);
    }
    // The hook's `systemctl reload nginx` returns once nginx has the signal; nginx then starts
    // new workers and keeps the old ones (old certificate) accepting for 100 ms more
    // (src/os/unix/ngx_process_cycle.c), so the first handshakes may still get the old one.
    let handshakes = 0;
    await waitFor(`nginx on ${ADDRESS}:443 to serve the renewed certificate (${installed})`,
      () => { handshakes++; return servedSerial(); }, (s) => s === installed, { timeoutMs: 30_000, intervalMs: 100 });
    console.log(`acme: nginx served the renewed certificate ${Date.now() - finished} ms after certbot.service finished (${handshakes} handshake(s))`);
    expect((await on("systemctl show -p MainPID --value nginx")).trim()).toBe(pidBefore);
    // The renewal is in the journal (and so on the logging host).
    expect(await on("journalctl -t django-fleet-acme --no-pager -o cat")).toContain(`installed the certificate for fleetdemo (serial ${installed.replace(/^serial=/, "")},`);
    expect(await changes()).toEqual([]);
  }, 600_000);

  it("a deleted certificate is found by refresh and put back by up", async () => {
    const serial = (await on(`openssl x509 -in ${CERT} -noout -serial`)).trim();
    await on("rm -f /etc/django-fleet/tls/fleetdemo/fullchain.pem /etc/django-fleet/tls/fleetdemo/privkey.pem");
    await within("pulumi refresh", 180_000, (signal) => t.stack.refresh({ onOutput: log, signal }));
    const found = await changes();
    expect(found).toContain("update lb-acme-certificate-fleetdemo");
    const res = await up("putting the deleted certificate back", 240_000);
    expect(res.summary.result).toBe("succeeded");
    // certbot's own copy was still good: installed again, no new order.
    expect((await on(`openssl x509 -in ${CERT} -noout -serial`)).trim()).toBe(serial);
    expect(servedSerial()).toBe(serial);
    expect(await changes()).toEqual([]);
  }, 600_000);

  it("an issuance that fails leaves nginx serving the certificate it served, and up names the failure", async () => {
    const serial = servedSerial();
    // A new name (so a new certificate is due) from an ACME server that does not answer.
    await setConfig("shop.example www.shop.example", "https://198.18.0.1:14999/dir");
    const rec = stepRecorder();
    const err = await up("with an ACME server that does not answer", 240_000, rec.onEvent).then(() => "", (e: Error) => e.message);
    expect(err).toContain("lb-acme-certificate-fleetdemo");
    expect(servedSerial()).toBe(serial);
    expect(curl(["https://shop.example/"]).out).toContain('class="note"');
    // Back to the working server and names: up converges, and nothing is left to do.
    await setConfig("shop.example");
    const res = await up("back to the working server", 240_000);
    expect(res.summary.result).toBe("succeeded");
    expect(await changes()).toEqual([]);
  }, 600_000);
});
