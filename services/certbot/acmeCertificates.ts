/**
 * AcmeCertificates: certificates from an ACME server (Let's Encrypt) on the load balancer,
 * with certbot and the HTTP-01 challenge answered by our own nginx (webroot).
 *
 * nginx reads each app's certificate from stable paths that exist from the start: a
 * self-signed placeholder until the first real certificate, which certbot's deploy hook
 * installs there (and reloads nginx) at each issue and renewal. So nginx always starts,
 * and a failed issue or renewal leaves it serving what it served. Renewal is certbot's own
 * timer; refresh notices a certificate that is missing, still the placeholder, or due
 * within `renewBeforeDays`, and `up` gets a new one.
 */
import { certFilesRead, certFilesState } from "../../lib/certState.ts";
import * as pulumi from "@pulumi/pulumi";
import {
  ACME_CA_BUNDLE, ACME_DEPLOY_HOOK, ACME_PLACEHOLDER_SUBJECT, ACME_WEBROOT, acmeDirectory, certPaths,
} from "../../config/acme.ts";
import type { AcmeConfig } from "../../config/schema.ts";
import { shortHash } from "../../lib/hash.ts";
import { cmd, script } from "../../lib/shell.ts";
import { selfSignedCertCommand } from "../../lib/selfSigned.ts";
import type { RemoteScript } from "../../providers/remoteScript.ts";
import { acmeCertCheck, certbotIssueCommand, renderAcmeDeployHook, renderCertbotDropIn } from "./acme.ts";
import type { Host } from "../../components/host.ts";

const DROP_IN = "/etc/systemd/system/certbot.service.d/django-fleet.conf";

/** The sorted host names on a certificate file, comma-separated (`-ext` needs OpenSSL 1.1.1). */
function namesOn(file: string): string {
  return `openssl x509 -in ${cmd(file)} -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ' | tr ',' '\\n' | sed -n 's/^DNS://p' | sort | paste -sd, -`;
}

export interface AcmeCertificatesArgs {
  /** The load balancer host. */
  readonly host: Host;
  /** loadBalancer.acme. */
  readonly acme: AcmeConfig;
  /** The PEM that signs a private ACME server's HTTPS (loadBalancer.acme.caFile, read on this machine). @default none */
  readonly caPem?: string;
}

export class AcmeCertificates extends pulumi.ComponentResource {
  /** Done before nginx may read the stable paths: the webroot, hook and placeholders. */
  private readonly setup: pulumi.Resource[];
  private readonly args: AcmeCertificatesArgs;
  private readonly componentName: string;

  constructor(name: string, args: AcmeCertificatesArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:AcmeCertificates", name, {}, opts);
    this.args = args;
    this.componentName = name;
    const h = args.host;
    const hook = h.file(`${name}-deploy-hook`, { path: ACME_DEPLOY_HOOK, mode: "0755", content: renderAcmeDeployHook() }, { parent: this });
    const files: pulumi.Resource[] = [hook];
    const dropIn = renderCertbotDropIn(args.caPem ? { caBundle: ACME_CA_BUNDLE } : {});
    if (args.caPem) {
      files.push(h.file(`${name}-ca`, { path: ACME_CA_BUNDLE, mode: "0644", content: args.caPem.trimEnd() + "\n" }, { parent: this }));
    }
    if (dropIn) {
      files.push(h.file(`${name}-certbot-drop-in`, { path: DROP_IN, content: dropIn }, { parent: this }));
    }
    // Debian's certbot package enables its timer; this keeps it so, and makes systemd read
    // the drop-in (the renewals' CA) before the timer next starts certbot.service.
    const timer = h.script(`${name}-renewal-timer`, {
      description: "certbot's renewal timer, and the folder nginx serves HTTP-01 answers from",
      create: script(
        `install -d -m 0755 ${cmd(ACME_WEBROOT)}`,
        "systemctl daemon-reload",
        "systemctl enable --now certbot.timer",
      ),
      check: script(`[ -d ${cmd(ACME_WEBROOT)} ]`, "systemctl is-enabled --quiet certbot.timer", "systemctl is-active --quiet certbot.timer"),
      triggers: { dropIn: dropIn ? shortHash(dropIn) : "none" },
    }, { parent: this, dependsOn: files });
    this.setup = [timer, ...files];
    this.registerOutputs({});
  }

  /**
   * The placeholder at an app's stable paths (made once, never over a real certificate):
   * nginx's site for the app waits for it.
   */
  public placeholder(app: string): pulumi.Resource {
    const h = this.args.host;
    const p = certPaths(app);
    const dir = p.certificatePath.replace(/\/[^/]+$/, "");
    return h.script(`${this.componentName}-placeholder-${app}`, {
      description: `placeholder certificate for ${app} until the ACME server's`,
      create: script(
        `install -d -m 0700 ${cmd(dir)}`,
        `if [ ! -s ${cmd(p.certificatePath)} ] || [ ! -s ${cmd(p.keyPath)} ]; then`,
        `  ${selfSignedCertCommand({ subject: ACME_PLACEHOLDER_SUBJECT, days: 30, ...p })}`,
        `  chmod 0600 ${cmd(p.keyPath)}`,
        "fi",
      ),
      check: script(`[ -s ${cmd(p.certificatePath)} ] && [ -s ${cmd(p.keyPath)} ]`),
      // Presence only: the ACME server's certificate replaces the placeholder's subject.
      read: certFilesRead(p, false),
      state: certFilesState(p),
    }, { parent: this, dependsOn: this.setup });
  }

  /**
   * The app's certificate from the ACME server, once nginx answers the challenge (`after`).
   * A certificate certbot already holds for the same names and not due is installed again
   * (no request to the ACME server); otherwise certbot asks for one, renewing early when
   * the current one is due within renewBeforeDays or names other hosts.
   */
  public certificate(app: string, domains: readonly string[], after: pulumi.Resource[]): RemoteScript {
    const h = this.args.host;
    const acme = this.args.acme;
    const days = acme.renewBeforeDays;
    const p = certPaths(app);
    const live = `/etc/letsencrypt/live/${app}`;
    const directory = acmeDirectory(acme.server);
    const issue = (forceRenewal: boolean) => {
      const c = certbotIssueCommand({
        certName: app, domains, email: acme.email!, directory, webroot: ACME_WEBROOT, deployHook: ACME_DEPLOY_HOOK,
        forceRenewal, ...(this.args.caPem ? { caBundle: ACME_CA_BUNDLE } : {}),
      }).trimEnd();
      // Forced (a due certificate, or other names): certbot must not keep the old one.
      return forceRenewal ? c.replace(" --keep-until-expiring", "") : c;
    };
    const check = acmeCertCheck({ certPath: p.certificatePath, renewBeforeDays: days, placeholderSubject: ACME_PLACEHOLDER_SUBJECT });
    const want = [...domains].sort().join(",");
    const renewal = `/etc/letsencrypt/renewal/${app}.conf`;
    return h.script(`${this.componentName}-certificate-${app}`, {
      description: `certificate for ${domains.join(", ")} from ${directory}`,
      create: script(
        `installed() { bash -c ${cmd(check)}; }`,
        `if installed && [ "$(${namesOn(p.certificatePath)})" = ${cmd(want)} ]; then exit 0; fi`,
        `live=${cmd(live)}`,
        // Still good in certbot's store (the stable copy was lost): install it again.
        `if [ -s "$live/fullchain.pem" ] && openssl x509 -in "$live/fullchain.pem" -noout -checkend ${days * 86400} >/dev/null && [ "$(${namesOn(`${live}/fullchain.pem`)})" = ${cmd(want)} ]; then`,
        `  RENEWED_LINEAGE="$live" ${cmd(ACME_DEPLOY_HOOK)}`,
        "elif [ -d \"$live\" ]; then",
        `  ${issue(true)}`,
        "else",
        `  ${issue(false)}`,
        "fi",
        // certbot's timer renews by its own threshold; make it ours.
        `if [ -f ${cmd(renewal)} ]; then sed -i '/^renew_before_expiry/d' ${cmd(renewal)}; sed -i ${cmd(`1i renew_before_expiry = ${days} days`)} ${cmd(renewal)}; fi`,
        `installed || { echo ${cmd(`certbot finished, but no valid certificate for ${app} is installed at ${p.certificatePath}`)} >&2; exit 1; }`,
      ),
      check,
      triggers: { domains: domains.join(" "), directory, email: acme.email ?? "" },
    }, { parent: this, dependsOn: [...this.setup, ...after] });
  }
}
