/**
 * LoadBalancer: nginx in front of every app node, one virtual host per app chosen by host
 * name, serving static files itself (and media, when it is also the app host), with TLS (self-signed for dev, a
 * certificate the user provides, or one per app from an ACME server) and an HTTP to HTTPS
 * redirect when TLS is on.
 */
import { certFilesRead, certFilesState } from "../../lib/certState.ts";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../config/schema.ts";
import { shortHash } from "../../lib/hash.ts";
import { cmd, script } from "../../lib/shell.ts";
import { selfSignedCertCommand } from "../../lib/selfSigned.ts";
import { renderNginxDefaultServer, renderNginxSite, type NginxUpstream } from "./nginxSite.ts";
import type { AppPlan } from "../../config/apps.ts";
import type { RemoteFile } from "../../providers/remoteFile.ts";
import { servedFolders, type DjangoPaths } from "../../lib/djangoSettings.ts";
import type { Host } from "../../components/host.ts";
import { AcmeCertificates } from "../certbot/acmeCertificates.ts";
import { ACME_WEBROOT, certPaths } from "../../config/acme.ts";
import { appPaths } from "../../components/paths.ts";
import { leftoversCheck, leftoversScript } from "../../lib/staticCopy.ts";
import { NGINX_FILES, nginxSitePath } from "../../plan/files.ts";

/** The site's own name: the first server name that is neither `_` nor a wildcard. */
function siteName(serverName: string): string | undefined {
  return serverName.split(/\s+/).find((n) => n && n !== "_" && !n.includes("*"));
}

/** One app's virtual host. */
export interface LoadBalancerSite {
  /** The app (its name, host names, static setting, TLS files). */
  readonly app: AppPlan;
  /** Where its nodes listen, in order. */
  readonly upstreams: readonly NginxUpstream[];
  /** What the site file waits for: the app nodes' switches, whose drain edits the file while it runs. @default [] */
  readonly switches?: readonly pulumi.Resource[];
  /** Where its settings put static and media files, read on the load balancer host (or, with `staticCopy`, on the app host). */
  readonly settings: pulumi.Input<DjangoPaths>;
  /**
   * The load balancer runs none of the app's code: static files are served from this copy
   * of root's (lib/staticCopy.ts), and media requests go to the app nodes, which hold the uploads.
   * @default the folders of `settings`, on this host
   */
  readonly staticCopy?: { readonly root: string; readonly current: string };
}

export interface LoadBalancerArgs {
  /** The load balancer host. */
  readonly host: Host;
  /** The stack config (loadBalancer and media parts). */
  readonly config: StackConfig;
  /** One virtual host per app, in config order. */
  readonly sites: readonly LoadBalancerSite[];
  /** Resources that must exist first (collected static files, app services). */
  readonly after: pulumi.Resource[];
  /** With tls "acme": the PEM that signs a private ACME server's HTTPS (loadBalancer.acme.caFile's content). @default none */
  readonly acmeCaPem?: string;
}

export class LoadBalancer extends pulumi.ComponentResource {
  /** Each app's URL, by app name. */
  public readonly urls: Record<string, string> = {};

  constructor(name: string, args: LoadBalancerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:LoadBalancer", name, {}, opts);
    const { host: h, config: cfg } = args;
    const lb = cfg.loadBalancer;
    const reloadOn: Record<string, pulumi.Input<string>> = {};
    const files: RemoteFile[] = [];
    const acme = lb.tls === "acme" ? new AcmeCertificates(`${name}-acme`, { host: h, acme: lb.acme!, ...(args.acmeCaPem ? { caPem: args.acmeCaPem } : {}) }, { parent: this }) : undefined;

    for (const { app, upstreams, settings, switches, staticCopy } of args.sites) {
      // The first app keeps the resource names of the one-app program.
      const first = app.index === 0;
      const named = (what: string) => ({ name: `${name}-${what}-${app.name}`, aliases: first ? [{ name: `${name}-${what}` }] : [] });
      const deps: pulumi.Resource[] = [];
      let tls: { certificatePath: string; keyPath: string } | undefined;
      if (lb.tls === "selfSigned") {
        tls = { certificatePath: `/etc/nginx/ssl/${app.name}.crt`, keyPath: `/etc/nginx/ssl/${app.name}.key` };
        const cn = siteName(app.serverName) ?? h.plan.address;
        const san = /^[\d.]+$/.test(cn) ? `IP:${cn}` : `DNS:${cn}`;
        const n = named("selfsigned-cert");
        const cert = h.script(n.name, {
          description: `self-signed certificate for ${cn}`,
          create: script(
            "install -d -m 0700 /etc/nginx/ssl",
            selfSignedCertCommand({ subject: `CN=${cn}`, days: 825, san, ...tls }),
            `chmod 0600 ${cmd(tls.keyPath)}`,
          ),
          check: script(`[ -s ${cmd(tls.certificatePath)} ] && [ -s ${cmd(tls.keyPath)} ]`),
          read: certFilesRead(tls, true),
          state: certFilesState(tls, `CN=${cn}`),
          triggers: { commonName: cn },
        }, { parent: this, aliases: n.aliases });
        deps.push(cert);
        reloadOn[first ? "certificate" : `certificate ${app.name}`] = cn;
      } else if (lb.tls === "provided") {
        tls = app.tls ?? { certificatePath: lb.certificatePath!, keyPath: lb.keyPath! };
      } else if (acme) {
        // A placeholder at the stable paths until the ACME server's certificate replaces it.
        tls = certPaths(app.name);
        deps.push(acme.placeholder(app.name));
      }

      // Static and media are served from where the project's own settings put them, which
      // must be inside the app's own folder (the renderer refuses anywhere else).
      // A copy of the static files (a load balancer without the app's code) is served from
      // root's folder; uploads are then on the app host's disk, so the app nodes get them.
      const site = pulumi.output(settings).apply((s) => {
        const served = servedFolders(s, app.static);
        const ownMedia = cfg.media.storage !== "s3" && !staticCopy;
        return renderNginxSite({
          appName: app.name,
          upstreams,
          serverName: app.serverName,
          tls,
          appRoot: staticCopy?.root ?? appPaths(app.name).root,
          staticRoot: served.static && (staticCopy?.current ?? served.static.root),
          staticUrl: served.static?.url,
          // Uploads in S3 are served by their storage's URLs, never from this host's disk.
          mediaRoot: ownMedia ? served.media?.root : undefined,
          mediaUrl: ownMedia ? served.media?.url : undefined,
          ...(acme ? { acme: { webroot: ACME_WEBROOT } } : {}),
        });
      });
      // Removing the app deletes its site file, then this reloads nginx so the virtual host
      // is gone at once (a reload of the remaining sites runs before deletes).
      const vhost = nginxSitePath(app.name);
      const unload = h.script(`${name}-unload-${app.name}`, {
        description: `reload nginx once ${app.name}'s site is removed`,
        create: script("true"),
        check: script("true"),
        delete: script(`rm -f -- ${cmd(vhost)}`, "if systemctl is-active --quiet nginx; then nginx -t -q && systemctl reload nginx; fi"),
      }, { parent: this });
      const n = named("site");
      files.push(h.file(n.name, { path: vhost, content: site }, { parent: this, dependsOn: [...deps, unload, ...(switches ?? [])], aliases: n.aliases }));
      reloadOn[`${app.name}.conf`] = site.apply(shortHash);
      this.urls[app.name] = `${tls ? "https" : "http"}://${siteName(app.serverName) ?? h.plan.address}/`;
    }

    // Several apps: a name that none of them serves is answered by nobody's site.
    if (args.sites.length > 1) {
      // Its certificate is a throwaway self-signed one: it answers names no app serves.
      const placeholder = { certificatePath: "/etc/nginx/ssl/django-fleet-default.crt", keyPath: "/etc/nginx/ssl/django-fleet-default.key" };
      const deps: pulumi.Resource[] = [];
      if (lb.tls !== "none") {
        deps.push(h.script(`${name}-default-cert`, {
          description: "placeholder certificate of the default server",
          create: script(
            "install -d -m 0700 /etc/nginx/ssl",
            selfSignedCertCommand({ subject: "CN=invalid", days: 3650, ...placeholder }),
            `chmod 0600 ${cmd(placeholder.keyPath)}`,
          ),
          check: script(`[ -s ${cmd(placeholder.certificatePath)} ] && [ -s ${cmd(placeholder.keyPath)} ]`),
          read: certFilesRead(placeholder, true),
          state: certFilesState(placeholder, "CN=invalid"),
        }, { parent: this }));
      }
      const fallback = renderNginxDefaultServer(lb.tls !== "none" ? { tls: placeholder } : {});
      files.push(h.file(`${name}-default-server`, { path: NGINX_FILES.defaultServer, content: fallback }, { parent: this, dependsOn: deps }));
      reloadOn["00-default-server.conf"] = shortHash(fallback);
    }
    // Debian's default site would answer for "_" (and win as default_server). Its file is
    // taken over with an empty one rather than its link removed: a declared file is
    // re-checked by refresh and rewritten after a package reinstall, and delete puts
    // Debian's original back.
    const noDefault = h.file(`${name}-default-site`, {
      path: NGINX_FILES.defaultSite,
      content: NGINX_FILES.defaultSiteContent,
    }, { parent: this });
    const nginx = h.service(`${name}-nginx`, {
      unit: "nginx.service", stopOnDelete: false,
      reloadOn,
      loads: [...files, noDefault].map((file) => ({ file, then: "reload" as const })),
    }, { parent: this, dependsOn: [...files, noDefault, ...args.after] });
    // A load balancer that ran an app's code before (a stack made by an older version) loses
    // its env file, tree and user once nginx serves the copy instead of that tree.
    for (const { app } of args.sites.filter((s) => s.staticCopy)) {
      h.script(`${name}-leftovers-${app.name}`, {
        description: `remove ${app.name}'s code, env file and user from the load balancer`,
        create: leftoversScript(app.name),
        check: leftoversCheck(app.name),
      }, { parent: this, dependsOn: [nginx] });
    }
    // Certificates are asked for once nginx answers the HTTP-01 challenge of each site.
    for (const { app } of args.sites) acme?.certificate(app.name, app.serverName.split(" ").filter(Boolean), [nginx]);
    this.registerOutputs({ urls: this.urls });
  }
}
