/** nginx where the plan gives the host the app's site: the load balancer in front of gunicorn. */
import { appPaths } from "../../../components/paths.ts";
import { servedFolders } from "../../../lib/djangoSettings.ts";
import { renderNginxSite } from "../../../services/nginx/nginxSite.ts";
import { file, service, type HostContext } from "./context.ts";

/** Renders the app's site and the emptied default site, and nginx's unit. */
export function renderNginx({ hp, cfg, app, settings, add, at }: HostContext): void {
  const site = hp.nginx?.sites.find((x) => x.app === app.name);
  if (!hp.nginx || !site) return;
  // nginx (services/nginx/loadBalancer.ts).
  const served = servedFolders(settings, app.static);
  const siteFile = add(file("nginx-site", site.path, renderNginxSite({
    appName: app.name,
    upstreams: site.upstreams.map((u) => ({ address: u.address, port: u.port })),
    serverName: app.serverName, tls: undefined, appRoot: appPaths(app.name).root,
    staticRoot: served.static?.root, staticUrl: served.static?.url,
    mediaRoot: cfg.media.storage === "s3" ? undefined : served.media?.root,
    mediaUrl: cfg.media.storage === "s3" ? undefined : served.media?.url,
  })));
  const noDefault = add(file("nginx-default-site", hp.nginx.defaultSite.path, hp.nginx.defaultSite.content));
  at("consumers", { kind: "files", id: "nginx-files", files: [siteFile, noDefault] },
    // The dev stack reloads on the site's change; the emptied default site changes with it
    // on the first run only, and must be read too. Its first run restarts nginx (a new
    // resource restarts its unit): so does a run that made the app's user.
    service("nginx", "nginx.service", { restartOn: ["user"], reloadOn: [siteFile, noDefault] }));
}
