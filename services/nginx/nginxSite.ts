import { appPaths } from "../../components/paths.ts";
import {
  assertHost,
  assertInt,
  assertMatches,
  assertName,
  assertPath,
  assertPort,
  hostPort,
  managedHeader,
  renderLines,
  stripTrailingSlash,
  withDefault,
} from "../../lib/render.ts";

/** One gunicorn backend behind the nginx upstream. */
export interface NginxUpstream {
  /** IP address or DNS name gunicorn listens on, e.g. `10.0.0.11` or `::1`. */
  readonly address: string;
  /** TCP port gunicorn listens on. */
  readonly port: number;
}

/** TLS settings; when present, plain HTTP only redirects to HTTPS. */
export interface NginxTlsOptions {
  /** Absolute path of the PEM certificate (full chain) on the server. */
  readonly certificatePath: string;
  /** Absolute path of the PEM private key on the server. */
  readonly keyPath: string;
  /**
   * HTTPS port.
   * @default 443
   */
  readonly port?: number;
}

/** Options for {@link renderNginxSite}. */
export interface NginxSiteOptions {
  /** App name; names the upstream (`<appName>_app`). */
  readonly appName: string;
  /** Gunicorn backends, in the order given (nothing is sorted). At least one. */
  readonly upstreams: readonly NginxUpstream[];
  /**
   * `server_name` value; several names may be separated by spaces.
   * @default "_"
   */
  readonly serverName?: string;
  /**
   * Plain HTTP port.
   * @default 80
   */
  readonly listenPort?: number;
  /** Serve HTTPS with this certificate; HTTP then only redirects. Omit for HTTP only. */
  readonly tls?: NginxTlsOptions;
  /**
   * Answer ACME HTTP-01 challenges on plain HTTP from `webroot` (certbot's `-w`), before
   * the redirect to HTTPS (or beside the app without TLS).
   * @default no challenge location
   */
  readonly acme?: { readonly webroot: string };
  /**
   * The app's own folder. `staticRoot` and `mediaRoot` must lie inside it, and below it nginx
   * follows a link only when the link's owner also owns what it points to (`disable_symlinks
   * if_not_owner from=<appRoot>`): a link the app's user planted to another app's file is
   * refused (403). The prefix up to it is not checked: its parent is root's, so no app can
   * replace it, and an operator's own link there (`/srv` on another disk) keeps working.
   * @default `/srv/<appName>`
   */
  readonly appRoot?: string;
  /** Directory served at `staticUrl` (Django `STATIC_ROOT`), inside `appRoot`. Omit to pass static requests to the app. */
  readonly staticRoot?: string;
  /**
   * URL prefix of static files (Django `STATIC_URL`, with leading and trailing slash).
   * @default "/static/"
   */
  readonly staticUrl?: string;
  /** Directory served at `mediaUrl` (Django `MEDIA_ROOT`), inside `appRoot`. Omit to not serve media. */
  readonly mediaRoot?: string;
  /**
   * URL prefix of media files (Django `MEDIA_URL`, with leading and trailing slash).
   * @default "/media/"
   */
  readonly mediaUrl?: string;
  /**
   * `proxy_read_timeout`/`proxy_send_timeout` towards gunicorn, in seconds.
   * @default 60
   */
  readonly proxyTimeoutSeconds?: number;
  /**
   * `client_max_body_size`, in megabytes.
   * @default 20
   */
  readonly clientMaxBodySizeMb?: number;
}

const INDENT = "    ";

/** Renders an nginx site (upstream + server blocks) for one Django app. */
export function renderNginxSite(o: NginxSiteOptions): string {
  const app = assertName("nginx appName", o.appName);
  const upstreamName = `${app.replace(/-/g, "_")}_app`;
  if (o.upstreams.length === 0) {
    throw new Error(`nginx site ${app}: upstreams is empty; at least one gunicorn backend is required`);
  }
  const serverName = assertMatches(
    "nginx serverName",
    withDefault(o.serverName, "_"),
    /^[A-Za-z0-9_*.~-]+(?: [A-Za-z0-9_*.~-]+)*$/,
    "host names separated by single spaces",
  );
  const listenPort = assertPort("nginx listenPort", withDefault(o.listenPort, 80));
  const timeout = assertInt("nginx proxyTimeoutSeconds", withDefault(o.proxyTimeoutSeconds, 60), 1, 86400);
  const bodyMb = assertInt("nginx clientMaxBodySizeMb", withDefault(o.clientMaxBodySizeMb, 20), 0, 1048576);
  const tlsPort = o.tls ? assertPort("nginx tls.port", withDefault(o.tls.port, 443)) : undefined;
  const appRoot = stripTrailingSlash(assertPath("nginx appRoot", withDefault(o.appRoot, appPaths(app).root)));
  if (appRoot === "/") throw new Error(`nginx site ${app}: appRoot is "/"; it must be the app's own folder, e.g. /srv/${app}`);
  // Files are read below the app's folder only through links its owner made to its own files.
  const noForeignLinks = `${INDENT}${INDENT}disable_symlinks if_not_owner from=${appRoot};`;
  if (tlsPort !== undefined && tlsPort === listenPort) {
    throw new Error(`nginx site ${app}: tls.port and listenPort are both ${listenPort}`);
  }

  const upstream = [
    // max_fails/fail_timeout take a failing backend out of rotation for 10s.
    `upstream ${upstreamName} {`,
    ...o.upstreams.map((u, i) => {
      const address = assertHost(`nginx upstreams[${i}].address`, u.address);
      const port = assertPort(`nginx upstreams[${i}].port`, u.port);
      return `${INDENT}server ${hostPort(address, port)} max_fails=3 fail_timeout=10s;`;
    }),
    // Idle connections kept open to gunicorn, so requests skip the TCP handshake.
    `${INDENT}keepalive 16;`,
    "}",
  ];

  const appLocations = [
    `${INDENT}client_max_body_size ${bodyMb}m;`,
    "",
    ...(o.staticRoot === undefined
      ? []
      : [
          `${INDENT}location ${urlPrefix("nginx staticUrl", withDefault(o.staticUrl, "/static/"))} {`,
          `${INDENT}${INDENT}alias ${servedDir("nginx staticRoot", "STATIC_ROOT", o.staticRoot, appRoot)};`,
          noForeignLinks,
          // collectstatic output is fingerprinted by the app's storage, so long caching is safe.
          `${INDENT}${INDENT}expires 30d;`,
          `${INDENT}${INDENT}access_log off;`,
          `${INDENT}}`,
          "",
        ]),
    ...(o.mediaRoot === undefined
      ? []
      : [
          `${INDENT}location ${urlPrefix("nginx mediaUrl", withDefault(o.mediaUrl, "/media/"))} {`,
          `${INDENT}${INDENT}alias ${servedDir("nginx mediaRoot", "MEDIA_ROOT", o.mediaRoot, appRoot)};`,
          noForeignLinks,
          // User uploads: browsers must not sniff them into HTML/JS.
          `${INDENT}${INDENT}add_header X-Content-Type-Options nosniff;`,
          `${INDENT}}`,
          "",
        ]),
    `${INDENT}location / {`,
    `${INDENT}${INDENT}proxy_pass http://${upstreamName};`,
    // HTTP/1.1 and an empty Connection header are what upstream keepalive needs.
    `${INDENT}${INDENT}proxy_http_version 1.1;`,
    `${INDENT}${INDENT}proxy_set_header Connection "";`,
    `${INDENT}${INDENT}proxy_set_header Host $host;`,
    `${INDENT}${INDENT}proxy_set_header X-Real-IP $remote_addr;`,
    `${INDENT}${INDENT}proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
    `${INDENT}${INDENT}proxy_set_header X-Forwarded-Proto $scheme;`,
    `${INDENT}${INDENT}proxy_redirect off;`,
    `${INDENT}${INDENT}proxy_connect_timeout 5s;`,
    `${INDENT}${INDENT}proxy_read_timeout ${timeout}s;`,
    `${INDENT}${INDENT}proxy_send_timeout ${timeout}s;`,
    // Retry another backend when one is down or restarting; nginx never retries
    // non-idempotent requests (POST...) once they were sent, so this cannot double-submit.
    `${INDENT}${INDENT}proxy_next_upstream error timeout http_502 http_503 http_504;`,
    `${INDENT}}`,
  ];

  // The ACME server fetches http://<name>/.well-known/acme-challenge/<token>, on port 80
  // and without TLS; `^~` keeps any other location from taking these requests.
  const challenge = o.acme === undefined ? [] : [
    `${INDENT}location ^~ /.well-known/acme-challenge/ {`,
    `${INDENT}${INDENT}root ${stripTrailingSlash(assertPath("nginx acme.webroot", o.acme.webroot))};`,
    `${INDENT}${INDENT}default_type text/plain;`,
    `${INDENT}}`,
    "",
  ];

  let servers: string[];
  if (o.tls === undefined || tlsPort === undefined) {
    servers = ["server {", `${INDENT}listen ${listenPort};`, `${INDENT}server_name ${serverName};`, "", ...challenge, ...appLocations, "}"];
  } else {
    const cert = assertPath("nginx tls.certificatePath", o.tls.certificatePath);
    const key = assertPath("nginx tls.keyPath", o.tls.keyPath);
    const target = tlsPort === 443 ? "https://$host$request_uri" : `https://$host:${tlsPort}$request_uri`;
    servers = [
      // Plain HTTP only redirects, so no request (or cookie) is served unencrypted.
      "server {",
      `${INDENT}listen ${listenPort};`,
      `${INDENT}server_name ${serverName};`,
      "",
      // A server-level return would run before any location is chosen, so with a challenge
      // location the redirect moves into `location /`, which every other request reaches.
      ...(o.acme === undefined ? [`${INDENT}return 301 ${target};`] : [
        ...challenge,
        `${INDENT}location / {`,
        `${INDENT}${INDENT}return 301 ${target};`,
        `${INDENT}}`,
      ]),
      "}",
      "",
      "server {",
      `${INDENT}listen ${tlsPort} ssl;`,
      `${INDENT}server_name ${serverName};`,
      "",
      `${INDENT}ssl_certificate ${cert};`,
      `${INDENT}ssl_certificate_key ${key};`,
      `${INDENT}ssl_protocols TLSv1.2 TLSv1.3;`,
      `${INDENT}ssl_session_cache shared:${upstreamName}_tls:10m;`,
      `${INDENT}ssl_session_timeout 1d;`,
      "",
      ...appLocations,
      "}",
    ];
  }

  return renderLines([managedHeader("#"), "", ...upstream, "", ...servers]);
}

/** A location prefix: `/static/`, `/assets/v2/`; nothing nginx would read as syntax. */
function urlPrefix(what: string, url: string): string {
  return assertMatches(what, url, /^\/(?:[A-Za-z0-9._~-]+\/)*$/, "a URL path starting and ending with /");
}

/**
 * A served folder as nginx `alias` (a `location /x/` needs the trailing slash, or paths are
 * glued together). It must lie below the app's own folder: anywhere else (`/etc`, another
 * app's tree) the app's settings would publish files that are not the app's.
 */
function servedDir(what: string, setting: string, dir: string, appRoot: string): string {
  const path = stripTrailingSlash(assertPath(what, dir));
  if (!path.startsWith(`${appRoot}/`) || path.split("/").includes(".")) {
    throw new Error(`${what} ${JSON.stringify(dir)} is outside the app's folder ${appRoot}: nginx serves an app's files only from inside its own folder; set the project's ${setting} to a folder below ${appRoot}/`);
  }
  return `${path}/`;
}

/** Options for {@link renderNginxDefaultServer}. */
export interface NginxDefaultServerOptions {
  /**
   * Also answer HTTPS, with this placeholder certificate (never an app's). A request
   * without SNI (an address in the URL) completes its handshake here and is then routed
   * by its Host header, so an app that lists the address still serves it.
   * @default HTTP only
   */
  readonly tls?: { readonly certificatePath: string; readonly keyPath: string };
  /**
   * Plain HTTP port.
   * @default 80
   */
  readonly listenPort?: number;
  /**
   * HTTPS port.
   * @default 443
   */
  readonly tlsPort?: number;
}

/**
 * The catch-all server for a load balancer with several apps: a request for a host name
 * no app serves gets no site at all (444 closes the connection), never the first app's.
 */
export function renderNginxDefaultServer(o: NginxDefaultServerOptions): string {
  const listenPort = assertPort("nginx listenPort", withDefault(o.listenPort, 80));
  const tlsPort = assertPort("nginx tlsPort", withDefault(o.tlsPort, 443));
  return renderLines([
    managedHeader("#"),
    "",
    "server {",
    `${INDENT}listen ${listenPort} default_server;`,
    ...(o.tls ? [
      `${INDENT}listen ${tlsPort} ssl default_server;`,
      `${INDENT}ssl_certificate ${assertPath("nginx default tls.certificatePath", o.tls.certificatePath)};`,
      `${INDENT}ssl_certificate_key ${assertPath("nginx default tls.keyPath", o.tls.keyPath)};`,
    ] : []),
    `${INDENT}server_name _;`,
    `${INDENT}return 444;`,
    "}",
  ]);
}
