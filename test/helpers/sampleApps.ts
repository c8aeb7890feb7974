/**
 * The sample projects as entries of the `apps` config: examples/app (fleetdemo) and
 * examples/blog, which differ in settings module, env names, list separator and static URL.
 */

/** examples/app, served from the test git server as fleetdemo.git. */
export function fleetdemoApp(domains: string[], extra: Record<string, unknown> = {}) {
  return {
    name: "fleetdemo", repo: "git://198.18.0.1/fleetdemo.git", domains,
    settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
    healthCheck: { path: "/healthz" },
    ...extra,
  };
}

/** examples/blog under the app name `name` (several apps may run the same code), at `<name>.example`. */
export function blogApp(name: string, extra: Record<string, unknown> = {}) {
  return {
    name, repo: "git://198.18.0.1/blog.git", domains: [`${name}.example`],
    settingsModule: "blogsite.conf.live", wsgiModule: "blogsite.wsgi:application", celeryApp: "blogsite",
    healthCheck: { path: "/healthz" },
    listSeparator: ";",
    envNames: {
      secretKey: "BLOG_SECRET", databaseUrl: "BLOG_DB_URL", brokerUrl: "BLOG_BROKER", allowedHosts: "BLOG_HOSTS",
      staticRoot: "BLOG_STATIC_DIR", mediaRoot: "BLOG_MEDIA_DIR", cacheUrl: "BLOG_CACHE",
    },
    ...extra,
  };
}
