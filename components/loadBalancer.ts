/**
 * LoadBalancer: nginx in front of every app node, serving static and media files itself,
 * with TLS (self-signed for dev, or a certificate the user provides) and an HTTP to
 * HTTPS redirect when TLS is on.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config/schema.ts";
import { shortHash } from "../lib/hash.ts";
import { cmd, script } from "../lib/shell.ts";
import { renderNginxSite, type NginxUpstream } from "../templates/nginxSite.ts";
import { RemoteFile } from "../providers/remoteFile.ts";
import { RemoteScript } from "../providers/remoteScript.ts";
import { SystemdService } from "../providers/systemdService.ts";
import { servedFolders, type DjangoPaths } from "../lib/djangoSettings.ts";
import type { Host } from "./host.ts";

/** The site's own name: the first server name that is neither `_` nor a wildcard. */
function siteName(serverName: string): string | undefined {
  return serverName.split(/\s+/).find((n) => n && n !== "_" && !n.includes("*"));
}

export interface LoadBalancerArgs {
  /** The load balancer host. */
  readonly host: Host;
  /** The stack config (app and loadBalancer parts). */
  readonly config: StackConfig;
  /** Where the app nodes listen, in order. */
  readonly upstreams: readonly NginxUpstream[];
  /** Resources that must exist first (collected static files, app services). */
  readonly after: pulumi.Resource[];
  /** Where the project's settings put static and media files, read on this host. */
  readonly settings: pulumi.Input<DjangoPaths>;
}

export class LoadBalancer extends pulumi.ComponentResource {
  /** The site's URL. */
  public readonly url: string;

  constructor(name: string, args: LoadBalancerArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:LoadBalancer", name, {}, opts);
    const { host: h, config: cfg } = args;
    const lb = cfg.loadBalancer;
    const app = cfg.app.name;
    const deps: pulumi.Resource[] = [...h.ready];
    const triggers: Record<string, pulumi.Input<string>> = {};

    let tls: { certificatePath: string; keyPath: string } | undefined;
    if (lb.tls === "selfSigned") {
      tls = { certificatePath: `/etc/nginx/ssl/${app}.crt`, keyPath: `/etc/nginx/ssl/${app}.key` };
      const cn = siteName(lb.serverName) ?? h.plan.address;
      const san = /^[\d.]+$/.test(cn) ? `IP:${cn}` : `DNS:${cn}`;
      const cert = new RemoteScript(`${name}-selfsigned-cert`, {
        connection: h.connection,
        description: `self-signed certificate for ${cn}`,
        create: script(
          "install -d -m 0700 /etc/nginx/ssl",
          `openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj ${cmd(`/CN=${cn}`)} -addext ${cmd(`subjectAltName=${san}`)} -keyout ${cmd(tls.keyPath)} -out ${cmd(tls.certificatePath)} 2>/dev/null`,
          `chmod 0600 ${cmd(tls.keyPath)}`,
        ),
        check: script(`[ -s ${cmd(tls.certificatePath)} ] && [ -s ${cmd(tls.keyPath)} ]`),
        triggers: { commonName: cn },
      }, { parent: this, dependsOn: h.ready });
      deps.push(cert);
      triggers.certificate = cn;
    } else if (lb.tls === "provided") {
      tls = { certificatePath: lb.certificatePath!, keyPath: lb.keyPath! };
    }

    // Static and media are served from where the project's own settings put them.
    const site = pulumi.output(args.settings).apply((s) => {
      const served = servedFolders(s, cfg.app.static);
      return renderNginxSite({
        appName: app,
        upstreams: args.upstreams,
        serverName: lb.serverName,
        tls,
        staticRoot: served.static?.root,
        staticUrl: served.static?.url,
        // Uploads in S3 are served by their storage's URLs, never from this host's disk.
        mediaRoot: cfg.media.storage === "s3" ? undefined : served.media?.root,
        mediaUrl: cfg.media.storage === "s3" ? undefined : served.media?.url,
      });
    });
    const siteFile = new RemoteFile(`${name}-site`, {
      connection: h.connection, path: `/etc/nginx/sites-enabled/${app}.conf`, content: site,
    }, { parent: this, dependsOn: deps });
    // Debian's default site would answer for "_" (and win as default_server). Its file is
    // taken over with an empty one rather than its link removed: a declared file is
    // re-checked by refresh and rewritten after a package reinstall, and delete puts
    // Debian's original back.
    const noDefault = new RemoteFile(`${name}-default-site`, {
      connection: h.connection, path: "/etc/nginx/sites-available/default",
      content: "# Managed by django-fleet (pulumi): Debian's default site is disabled while the app's site serves.\n",
    }, { parent: this, dependsOn: h.ready });
    new SystemdService(`${name}-nginx`, {
      connection: h.connection,
      unit: "nginx.service", stopOnDelete: false,
      reloadOn: { [`${app}.conf`]: site.apply(shortHash), ...triggers },
    }, { parent: this, dependsOn: [siteFile, noDefault, ...args.after] });

    const scheme = tls ? "https" : "http";
    const hostName = siteName(lb.serverName) ?? h.plan.address;
    this.url = `${scheme}://${hostName}/`;
    this.registerOutputs({ url: this.url });
  }
}
