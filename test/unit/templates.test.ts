import { describe, expect, it } from "vitest";
import { MANAGED_NOTICE } from "../../lib/render.ts";
import { renderEnvFile } from "../../services/app/envFile.ts";
import { renderGunicornConf, type GunicornConfOptions } from "../../services/app/gunicornConf.ts";
import { renderGunicornSocket, renderGunicornUnit, type AppServiceOptions } from "../../services/app/systemdUnits.ts";
import { renderCeleryBeatUnit, renderCeleryWorkerUnit } from "../../services/celery/celeryUnits.ts";
import { renderNginxDefaultServer, renderNginxSite, type NginxDefaultServerOptions, type NginxSiteOptions } from "../../services/nginx/nginxSite.ts";
import { renderPgHba, renderPostgresConf } from "../../services/postgresql/postgres.ts";
import { redisInstancePaths, renderRedisConf } from "../../services/redis/redis.ts";
import { sharedMemcachedWarning } from "../../services/memcached/memcached.ts";
import { renderLogRetention } from "../../services/rsyslog/logRetention.ts";
import { renderRsyslogClient, renderRsyslogServer } from "../../services/rsyslog/rsyslog.ts";
import { expectGolden } from "../helpers/golden.ts";


/** Properties every rendered file has, whatever the format. */
function expectWellFormed(out: string, commentMarker: string = "#"): void {
  expect(out.split("\n")[0]).toBe(`${commentMarker} ${MANAGED_NOTICE}`);
  expect(out.endsWith("\n")).toBe(true);
  expect(out.endsWith("\n\n")).toBe(false);
}

/** Runs a table of named cases: each renders to its golden file, deterministically. */
function goldenTable<T>(cases: ReadonlyArray<readonly [string, T]>, render: (o: T) => string): void {
  it.each(cases.map(([name, options]) => ({ name, options })))("$name", ({ name, options }) => {
    const out = render(options);
    expectWellFormed(out);
    expect(render(options)).toBe(out);
    expectGolden(name, out);
  });
}

/** The lines of one nginx `server { ... }` block, found by its `listen` line. */
function serverBlock(out: string, listen: string): string {
  const blocks = out.split(/^server \{$/m).slice(1).map((b) => b.slice(0, b.indexOf("\n}")));
  const block = blocks.find((b) => b.includes(`\n    listen ${listen};`));
  if (block === undefined) throw new Error(`no server block listening on ${listen}`);
  return block;
}

const base: AppServiceOptions = {
  appName: "fleetdemo",
  user: "fleetdemo",
  group: "fleetdemo",
  sourceDir: "/srv/fleetdemo/current",
  venvDir: "/srv/fleetdemo/venv",
  envFile: "/etc/fleetdemo/env",
};

const nginxBasic: NginxSiteOptions = {
  appName: "fleetdemo",
  upstreams: [{ address: "127.0.0.1", port: 8000 }],
  staticRoot: "/srv/fleetdemo/static",
  mediaRoot: "/srv/fleetdemo/media/",
};

const nginxTls: NginxSiteOptions = {
  appName: "fleet-demo",
  serverName: "demo.example.com www.demo.example.com",
  upstreams: [
    { address: "10.0.0.12", port: 8000 },
    { address: "10.0.0.11", port: 8000 },
    { address: "fd00::13", port: 8001 },
  ],
  tls: { certificatePath: "/etc/ssl/fleet/demo.crt", keyPath: "/etc/ssl/private/demo.key" },
  appRoot: "/srv/fleetdemo/",
  staticRoot: "/srv/fleetdemo/static",
  mediaRoot: "/srv/fleetdemo/media",
  proxyTimeoutSeconds: 120,
  clientMaxBodySizeMb: 100,
};

describe("renderNginxSite", () => {
  goldenTable<NginxSiteOptions>(
    [
      ["nginx-http", nginxBasic],
      ["nginx-tls", nginxTls],
      [
        "nginx-tls-custom-ports",
        {
          appName: "api",
          upstreams: [{ address: "127.0.0.1", port: 9000 }],
          listenPort: 8080,
          tls: { certificatePath: "/etc/ssl/api.pem", keyPath: "/etc/ssl/api.key", port: 8443 },
        },
      ],
    ],
    renderNginxSite,
  );

  it("keeps upstreams in the given order with failover settings", () => {
    const out = renderNginxSite(nginxTls);
    const servers = [...out.matchAll(/^ {4}server (\S+) max_fails=3 fail_timeout=10s;$/gm)].map((m) => m[1]);
    expect(servers).toEqual(["10.0.0.12:8000", "10.0.0.11:8000", "[fd00::13]:8001"]);
    expect(out).toContain("upstream fleet_demo_app {");
    expect(out).toContain("keepalive 16;");
    expect(out).toContain("proxy_next_upstream error timeout http_502 http_503 http_504;");
  });

  it("with TLS, port 80 only redirects and the TLS server proxies", () => {
    const out = renderNginxSite(nginxTls);
    const plain = serverBlock(out, "80");
    expect(plain).toContain("return 301 https://$host$request_uri;");
    expect(plain).not.toContain("proxy_pass");
    expect(plain).not.toContain("location");
    const tls = serverBlock(out, "443 ssl");
    expect(tls).toContain("proxy_pass http://fleet_demo_app;");
    expect(tls).toContain("ssl_protocols TLSv1.2 TLSv1.3;");
    expect(tls).toContain("ssl_certificate /etc/ssl/fleet/demo.crt;");
    expect(tls).toContain("proxy_read_timeout 120s;");
    expect(tls).toContain("client_max_body_size 100m;");
  });

  it("redirects to a non-default TLS port explicitly", () => {
    const out = renderNginxSite({ ...nginxBasic, tls: { certificatePath: "/c.pem", keyPath: "/k.pem", port: 8443 } });
    expect(serverBlock(out, "80")).toContain("return 301 https://$host:8443$request_uri;");
  });

  it("without TLS, one server proxies with the forwarding headers and defaults", () => {
    const out = renderNginxSite(nginxBasic);
    expect(out).not.toContain("return 301");
    const server = serverBlock(out, "80");
    for (const header of ["Host $host", "X-Real-IP $remote_addr", "X-Forwarded-For $proxy_add_x_forwarded_for", "X-Forwarded-Proto $scheme"]) {
      expect(server).toContain(`proxy_set_header ${header};`);
    }
    expect(server).toContain("server_name _;");
    expect(server).toContain("proxy_read_timeout 60s;");
    expect(server).toContain("client_max_body_size 20m;");
    expect(server).toMatch(/location \/static\/ \{\n\s+alias \/srv\/fleetdemo\/static\/;\n\s+disable_symlinks if_not_owner from=\/srv\/fleetdemo;\n\s+expires 30d;\n\s+access_log off;/);
    expect(server).toContain("alias /srv/fleetdemo/media/;");
  });

  it("serves files below the app's folder only through links whose owner owns the target", () => {
    const out = renderNginxSite(nginxBasic);
    const locations = out.split(/\n(?= {4}location )/).slice(1);
    const directive = "        disable_symlinks if_not_owner from=/srv/fleetdemo;";
    expect(locations.map((l) => l.split("\n")[0]!.trim())).toEqual(["location /static/ {", "location /media/ {", "location / {"]);
    expect(locations.map((l) => l.includes(`\n${directive}\n`))).toEqual([true, true, false]);
    // The explicit appRoot, its trailing slash dropped: the prefix ends at a path component.
    expect(renderNginxSite(nginxTls)).toContain("disable_symlinks if_not_owner from=/srv/fleetdemo;");
    // Nothing served from disk, nothing to guard.
    expect(renderNginxSite({ appName: "api", upstreams: nginxBasic.upstreams })).not.toContain("disable_symlinks");
  });

  it.each<[string, Partial<NginxSiteOptions>, string]>([
    ["STATIC_ROOT in /etc", { staticRoot: "/etc" },
      'nginx staticRoot "/etc" is outside the app\'s folder /srv/fleetdemo: nginx serves an app\'s files only from inside its own folder; set the project\'s STATIC_ROOT to a folder below /srv/fleetdemo/'],
    ["STATIC_ROOT in another app's folder", { staticRoot: "/srv/blog/public/static" }, 'nginx staticRoot "/srv/blog/public/static" is outside the app\'s folder /srv/fleetdemo'],
    ["STATIC_ROOT in a folder whose name starts alike", { staticRoot: "/srv/fleetdemo2/static" }, 'nginx staticRoot "/srv/fleetdemo2/static" is outside'],
    ["STATIC_ROOT the app's folder itself", { staticRoot: "/srv/fleetdemo/" }, 'nginx staticRoot "/srv/fleetdemo/" is outside'],
    ["STATIC_ROOT through a . segment", { staticRoot: "/srv/fleetdemo/./" }, 'nginx staticRoot "/srv/fleetdemo/./" is outside'],
    ["STATIC_ROOT climbing out", { staticRoot: "/srv/fleetdemo/../blog/static" }, '".." segments are not allowed'],
    ["MEDIA_ROOT in /var/www", { mediaRoot: "/var/www/fleetdemo/media" }, "set the project's MEDIA_ROOT to a folder below /srv/fleetdemo/"],
    ["the app's folder named /", { appRoot: "/" }, 'nginx site fleetdemo: appRoot is "/"'],
    ["the app's folder relative", { appRoot: "srv/fleetdemo" }, "nginx appRoot"],
  ])("refuses to serve from outside the app's folder: %s", (_name, change, message) => {
    expect(() => renderNginxSite({ ...nginxBasic, ...change })).toThrow(message);
  });

  it("rejects bad input", () => {
    expect(() => renderNginxSite({ ...nginxBasic, acme: { webroot: "acme" } })).toThrow(/nginx acme\.webroot/);
    expect(() => renderNginxSite({ ...nginxBasic, acme: { webroot: "/var/lib/acme; return 200" } })).toThrow(/nginx acme\.webroot/);
    expect(() => renderNginxSite({ ...nginxBasic, upstreams: [] })).toThrow(/upstreams is empty/);
    expect(() => renderNginxSite({ ...nginxBasic, serverName: "a; include /etc/passwd" })).toThrow(/serverName/);
    expect(() => renderNginxSite({ ...nginxBasic, staticRoot: "static" })).toThrow(/staticRoot/);
    expect(() => renderNginxSite({ ...nginxBasic, upstreams: [{ address: "127.0.0.1", port: 0 }] })).toThrow(/port/);
  });
});

// Certificates from an ACME server: its HTTP-01 requests reach the webroot on plain HTTP,
// and every other plain-HTTP request is redirected (with TLS) or proxied (without).
const ACME = { webroot: "/var/lib/django-fleet/acme" };
const CHALLENGE = "    location ^~ /.well-known/acme-challenge/ {\n        root /var/lib/django-fleet/acme;\n        default_type text/plain;\n    }\n";
describe("renderNginxSite with an ACME challenge location", () => {
  goldenTable<NginxSiteOptions>(
    [
      ["nginx-acme-tls", { ...nginxTls, acme: ACME }],
      ["nginx-acme-http", { ...nginxBasic, serverName: "shop.example", acme: { webroot: "/var/lib/django-fleet/acme/" } }],
    ],
    renderNginxSite,
  );

  it("with TLS, the challenge location is exempt from the redirect; every other path still redirects", () => {
    const plain = serverBlock(renderNginxSite({ ...nginxTls, acme: ACME }), "80");
    expect(plain).toContain(CHALLENGE);
    // No server-level return: it would run before any location is chosen, challenges included.
    expect(plain).not.toMatch(/^ {4}return /m);
    expect(plain).toMatch(/ {4}location \/ \{\n {8}return 301 https:\/\/\$host\$request_uri;\n {4}\}/);
    expect(plain.indexOf("acme-challenge")).toBeLessThan(plain.indexOf("location / {"));
    expect(plain.match(/return 301/g)).toHaveLength(1);
    expect(plain).not.toContain("proxy_pass");
    // HTTPS serves the app only: certbot never asks over TLS.
    expect(serverBlock(renderNginxSite({ ...nginxTls, acme: ACME }), "443 ssl")).not.toContain("acme-challenge");
  });

  it("with TLS on other ports, the redirect inside location / keeps the TLS port", () => {
    const out = renderNginxSite({ ...nginxBasic, listenPort: 8080, tls: { certificatePath: "/c.pem", keyPath: "/k.pem", port: 8443 }, acme: ACME });
    expect(serverBlock(out, "8080")).toContain(`${CHALLENGE}\n    location / {\n        return 301 https://$host:8443$request_uri;\n    }`);
  });

  it("without TLS, the challenge location sits beside the proxied app, before it", () => {
    const server = serverBlock(renderNginxSite({ ...nginxBasic, acme: ACME }), "80");
    expect(server).toContain(CHALLENGE);
    expect(server).toContain("proxy_pass http://fleetdemo_app;");
    expect(server).not.toContain("return 301");
    expect(server.indexOf("acme-challenge")).toBeLessThan(server.indexOf("location / {"));
  });

  it("without acme, the sites are exactly as before (no challenge location, server-level redirect)", () => {
    for (const o of [nginxBasic, nginxTls]) {
      expect(renderNginxSite({ ...o, acme: undefined })).toBe(renderNginxSite(o));
      expect(renderNginxSite(o)).not.toContain("acme-challenge");
    }
    expect(serverBlock(renderNginxSite(nginxTls), "80")).toMatch(/^ {4}return 301 /m);
  });
});

// The catch-all server of a load balancer with several apps: a host name no app serves
// gets no app's site (444 closes the connection; with TLS, after a placeholder certificate).
const PLACEHOLDER = { certificatePath: "/etc/nginx/ssl/django-fleet-default.crt", keyPath: "/etc/nginx/ssl/django-fleet-default.key" };
describe("renderNginxDefaultServer", () => {
  goldenTable<NginxDefaultServerOptions>(
    [
      ["nginx-default-server-http", {}],
      ["nginx-default-server-tls", { tls: PLACEHOLDER }],
      ["nginx-default-server-custom-ports", { tls: PLACEHOLDER, listenPort: 8080, tlsPort: 8443 }],
    ],
    renderNginxDefaultServer,
  );

  it("is the default server of every port it listens on, and answers 444 under the name _", () => {
    const out = renderNginxDefaultServer({ tls: PLACEHOLDER });
    const server = serverBlock(out, "80 default_server");
    expect(server).toContain("\n    listen 443 ssl default_server;");
    expect(server).toContain(`\n    ssl_certificate ${PLACEHOLDER.certificatePath};`);
    expect(server).toContain("\n    server_name _;");
    expect(server).toContain("\n    return 444;");
    // Nothing proxied and no app's certificate: no app's content can leak through it.
    expect(out).not.toMatch(/proxy_pass|location|\/etc\/nginx\/ssl\/(?!django-fleet-default)/);
  });

  it("without TLS listens on the plain port only", () => {
    const out = renderNginxDefaultServer({ tlsPort: 8443 });
    expect(out).not.toContain("ssl");
    expect(out).not.toContain("8443");
    expect(out.match(/^ {4}listen /gm)).toHaveLength(1);
  });

  it("rejects bad ports", () => {
    expect(() => renderNginxDefaultServer({ listenPort: 0 })).toThrow(/nginx listenPort/);
    expect(() => renderNginxDefaultServer({ tls: PLACEHOLDER, tlsPort: 70000 })).toThrow(/nginx tlsPort/);
  });
});

describe("systemd units", () => {
  describe("renderGunicornUnit", () => {
    const gunicorn = { ...base, wsgiModule: "fleetdemo.wsgi:application", configFile: "/etc/fleetdemo/gunicorn.conf.py" };
    goldenTable(
      [
        ["gunicorn-defaults", gunicorn],
        ["gunicorn-custom", { ...gunicorn, wsgiModule: "config.wsgi:app", stopTimeoutSeconds: 95 }],
      ],
      renderGunicornUnit,
    );

    it("has the exact ExecStart, graceful HUP reload and systemd stop settings", () => {
      const out = renderGunicornUnit(gunicorn);
      expect(out).toContain("ExecStart=/srv/fleetdemo/venv/bin/gunicorn --config /etc/fleetdemo/gunicorn.conf.py fleetdemo.wsgi:application\n");
      expect(out).toContain("ExecReload=/bin/kill -s HUP $MAINPID\n");
      expect(out).toContain("SyslogIdentifier=fleetdemo-gunicorn\n");
      for (const line of ["KillMode=mixed", "TimeoutStopSec=30", "Restart=on-failure", "WantedBy=multi-user.target"]) {
        expect(out).toContain(`${line}\n`);
      }
    });

    it("rejects a relative config file", () => {
      expect(() => renderGunicornUnit({ ...gunicorn, configFile: "gunicorn.conf.py" })).toThrow(/configFile/);
    });

    it("runs on its socket unit: required and ordered after it", () => {
      const out = renderGunicornUnit(gunicorn);
      expect(out).toContain("Requires=fleetdemo-gunicorn.socket\nAfter=fleetdemo-gunicorn.socket\n");
    });
  });

  describe("renderGunicornSocket", () => {
    goldenTable(
      [
        ["gunicorn-socket-defaults", { appName: "fleetdemo", bindAddress: "127.0.0.1", port: 8000 }],
        ["gunicorn-socket-custom", { appName: "shop", bindAddress: "::1", port: 8001, backlog: 1024 }],
      ],
      renderGunicornSocket,
    );

    it("listens where gunicorn's config binds, early at boot, with a generous backlog", () => {
      const out = renderGunicornSocket({ appName: "fleetdemo", bindAddress: "10.0.0.11", port: 8000 });
      for (const line of ["ListenStream=10.0.0.11:8000", "FreeBind=true", "Backlog=4096", "WantedBy=sockets.target"]) {
        expect(out).toContain(`${line}\n`);
      }
      expect(renderGunicornSocket({ appName: "fleetdemo", bindAddress: "::1", port: 8000 })).toContain("ListenStream=[::1]:8000\n");
      expect(() => renderGunicornSocket({ appName: "fleetdemo", bindAddress: "127.0.0.1\nExecStartPre=x", port: 8000 })).toThrow(/bindAddress/);
      expect(() => renderGunicornSocket({ appName: "fleetdemo", bindAddress: "127.0.0.1", port: 8000, backlog: 0 })).toThrow(/backlog/);
    });
  });

  describe("renderGunicornConf", () => {
    goldenTable<GunicornConfOptions>(
      [
        ["gunicorn-conf-defaults", { bindAddress: "127.0.0.1", port: 8000 }],
        ["gunicorn-conf-custom", { bindAddress: "::1", port: 8001, workers: 5, timeoutSeconds: 90, maxRequests: 500 }],
      ],
      renderGunicornConf,
    );

    it("carries bind, workers, timeout and recycling settings", () => {
      const out = renderGunicornConf({ bindAddress: "10.0.0.11", port: 8000 });
      for (const line of ['bind = "10.0.0.11:8000"', "workers = 3", "timeout = 30", "max_requests = 1000", 'accesslog = "-"', 'errorlog = "-"']) {
        expect(out).toContain(`${line}\n`);
      }
      expect(renderGunicornConf({ bindAddress: "::1", port: 8000 })).toContain('bind = "[::1]:8000"\n');
      expect(() => renderGunicornConf({ bindAddress: '127.0.0.1"', port: 8000 })).toThrow(/bindAddress/);
    });
  });

  describe("renderCeleryWorkerUnit", () => {
    const worker = { ...base, celeryApp: "fleetdemo" };
    goldenTable(
      [
        ["celery-worker-defaults", worker],
        ["celery-worker-queues", { ...worker, celeryApp: "fleetdemo.celery:app", concurrency: 8, queues: ["high", "default", "low"], workerName: "bulk" }],
      ],
      renderCeleryWorkerUnit,
    );

    it("never embeds beat and keeps queue order", () => {
      const out = renderCeleryWorkerUnit({ ...worker, queues: ["b", "a"] });
      expect(out).not.toMatch(/\s-B\b/);
      expect(out).not.toContain("--beat");
      expect(out).toContain(" --queues b,a ");
      expect(out).toContain("--hostname worker@%H\n");
      expect(out).toContain("KillSignal=SIGTERM\n");
      expect(out).toContain("TimeoutStopSec=60\n");
      expect(out).toContain("SyslogIdentifier=fleetdemo-celery-worker\n");
    });

    it("rejects an empty queue list and odd queue names", () => {
      expect(() => renderCeleryWorkerUnit({ ...worker, queues: [] })).toThrow(/queues is empty/);
      expect(() => renderCeleryWorkerUnit({ ...worker, queues: ["a b"] })).toThrow(/queues\[0\]/);
    });
  });

  describe("renderCeleryBeatUnit", () => {
    const beat = { ...base, celeryApp: "fleetdemo" };
    goldenTable(
      [
        ["celery-beat-defaults", beat],
        ["celery-beat-custom-schedule", { ...beat, scheduleFile: "/srv/fleetdemo/state/celerybeat-schedule" }],
      ],
      renderCeleryBeatUnit,
    );

    it("schedules into /var/lib/<app> and lets systemd create it", () => {
      const out = renderCeleryBeatUnit(beat);
      expect(out).toContain("beat --loglevel INFO --schedule /var/lib/fleetdemo/celerybeat-schedule\n");
      expect(out).toContain("StateDirectory=fleetdemo\nStateDirectoryMode=0750\n");
      expect(out).toContain("SyslogIdentifier=fleetdemo-celery-beat\n");
      expect(renderCeleryBeatUnit({ ...beat, scheduleFile: "/srv/x/schedule" })).not.toContain("StateDirectory");
    });
  });

  it("every unit has the common [Unit]/[Service] lines", () => {
    const units = [
      renderGunicornUnit({ ...base, wsgiModule: "a.wsgi:application", configFile: "/etc/a/gunicorn.conf.py" }),
      renderCeleryWorkerUnit({ ...base, celeryApp: "a" }),
      renderCeleryBeatUnit({ ...base, celeryApp: "a" }),
    ];
    for (const out of units) {
      for (const line of [
        "After=network-online.target",
        "Wants=network-online.target",
        "Type=simple",
        "PrivateTmp=true",
        "NoNewPrivileges=true",
        "User=fleetdemo",
        "Group=fleetdemo",
        "WorkingDirectory=/srv/fleetdemo/current",
        "EnvironmentFile=/etc/fleetdemo/env",
      ]) {
        expect(out).toContain(`\n${line}\n`);
      }
    }
  });

  it("rejects values that would change the unit's meaning", () => {
    expect(() => renderCeleryBeatUnit({ ...base, celeryApp: "a", sourceDir: "/srv/my app" })).toThrow(/sourceDir/);
    expect(() => renderCeleryBeatUnit({ ...base, celeryApp: "a", venvDir: "/srv/%h" })).toThrow(/venvDir/);
    expect(() => renderCeleryBeatUnit({ ...base, celeryApp: "a; rm -rf /" })).toThrow(/celeryApp/);
    expect(() => renderGunicornUnit({ ...base, wsgiModule: "a.wsgi", configFile: "/etc/a/gunicorn.conf.py" })).toThrow(/wsgiModule/);
  });
});

describe("renderEnvFile", () => {
  goldenTable<Readonly<Record<string, string>>>(
    [
      [
        "env-escaping",
        {
          // Deliberately unsorted: output must sort.
          SECRET_KEY: 'a$b"c\\d`e',
          DJANGO_SETTINGS_MODULE: "fleetdemo.settings",
          EMPTY: "",
          MULTILINE: "line one\nline two",
          SPACES: "  padded  ",
          _PRIVATE: "x",
          ALLOWED_HOSTS: "demo.example.com,10.0.0.11",
        },
      ],
      ["env-empty", {}],
    ],
    renderEnvFile,
  );

  it("sorts keys and escapes $, \", \\ and backquote", () => {
    const out = renderEnvFile({ B: "1", A: 'say "hi" for $5 \\ `x`' });
    expect(out.split("\n").slice(1, 3)).toEqual(['A="say \\"hi\\" for \\$5 \\\\ \\`x\\`"', 'B="1"']);
  });

  it("keeps a newline verbatim inside the quotes (systemd has no \\n escape)", () => {
    expect(renderEnvFile({ K: "a\nb" })).toContain('K="a\nb"\n');
  });

  it("throws on an invalid key, naming it", () => {
    expect(() => renderEnvFile({ "BAD-KEY": "x" })).toThrow(/"BAD-KEY"/);
    expect(() => renderEnvFile({ "1ST": "x" })).toThrow(/"1ST"/);
    expect(() => renderEnvFile({ "A B": "x" })).toThrow(/"A B"/);
    expect(() => renderEnvFile({ "": "x" })).toThrow(/""/);
  });

  it("throws on values an environment file cannot hold", () => {
    expect(() => renderEnvFile({ K: "a\0b" })).toThrow(/K/);
    expect(() => renderEnvFile({ K: "\uD800" })).toThrow(/K/);
  });
});

describe("rsyslog and log retention", () => {
  goldenTable(
    [
      ["rsyslog-server-defaults", { allowedSenders: ["10.0.0.11", "10.0.0.12"] }],
      ["rsyslog-server-custom", { port: 6514, logDir: "/srv/logs/", allowedSenders: ["10.0.0.0/24", "fd00::/64", "::1"] }],
      ["rsyslog-server-tls-paths", { allowedSenders: ["10.0.0.11"], tls: { caFile: "/etc/pki/logs-ca.pem", certFile: "/etc/pki/srv.pem", keyFile: "/etc/pki/srv.key" } }],
    ],
    renderRsyslogServer,
  );
  goldenTable(
    [
      ["rsyslog-client-defaults", { serverAddress: "10.0.0.5" }],
      ["rsyslog-client-custom", { serverAddress: "logs.internal", port: 6514, queueDir: "/var/lib/fleet-rsyslog" }],
      [
        "rsyslog-client-files",
        {
          serverAddress: "10.0.0.5",
          files: [
            { tag: "postgresql", file: "/var/log/postgresql/postgresql-*-main.log" },
            { tag: "nginx-access", file: "/var/log/nginx/access.log" },
            { tag: "nginx-error", file: "/var/log/nginx/error.log" },
          ],
        },
      ],
      ["rsyslog-client-files-custom", { serverAddress: "logs.internal", port: 6514, files: [{ tag: "rabbitmq", file: "/var/log/rabbitmq/rabbit@*.log" }] }],
      ["rsyslog-client-tls-custom", { serverAddress: "10.0.0.5", serverName: "logs.example.internal", tls: { keyFile: "/etc/pki/me.key" } }],
    ],
    renderRsyslogClient,
  );
  goldenTable(
    [
      ["logrotate-defaults", { logDir: "/var/log/fleet" }],
      ["logrotate-custom", { logDir: "/srv/logs/", retentionDays: 90 }],
    ],
    renderLogRetention,
  );

  it("server binds the input to its own ruleset and writes per host/program files", () => {
    const out = renderRsyslogServer({ allowedSenders: ["10.0.0.11"] });
    expect(out).toContain('input(\n    type="imtcp"\n    port="10514"\n    ruleset="fleetRemote"\n');
    expect(out).toContain("$AllowedSender TCP, 10.0.0.11\n");
    expect(out).toContain('constant(value="/var/log/fleet/")');
    expect(out).toContain('property(name="hostname" securepath="replace")');
    expect(out).toContain('property(name="programname" securepath="replace")');
  });

  it("server refuses an open sender list and bad senders", () => {
    expect(() => renderRsyslogServer({ allowedSenders: [] })).toThrow(/allowedSenders is empty/);
    expect(() => renderRsyslogServer({ allowedSenders: ["10.0.0.0/33"] })).toThrow(/prefix length/);
    expect(() => renderRsyslogServer({ allowedSenders: ["*"] })).toThrow(/allowedSenders\[0\]/);
  });

  it.each([
    // [what, rendered, lines that must be there]
    ["server: TLS only, client certificates from the stack's CA", renderRsyslogServer({ allowedSenders: ["10.0.0.11"] }), [
      'streamDriver.name="gtls"', 'streamDriver.mode="1"', 'streamDriver.authMode="x509/certvalid"',
      'streamDriver.caFile="/etc/fleet-log-tls/ca.crt"', 'streamDriver.certFile="/etc/fleet-log-tls/server.crt"', 'streamDriver.keyFile="/etc/fleet-log-tls/server.key"',
    ]],
    ["client: TLS only, the server's name checked", renderRsyslogClient({ serverAddress: "10.0.0.5" }), [
      'StreamDriver="gtls"', 'StreamDriverMode="1"', 'StreamDriverAuthMode="x509/name"', 'StreamDriverPermittedPeers="logging.fleet"',
      'StreamDriver.CAFile="/etc/fleet-log-tls/ca.crt"', 'StreamDriver.CertFile="/etc/fleet-log-tls/host.crt"', 'StreamDriver.KeyFile="/etc/fleet-log-tls/host.key"',
    ]],
    ["client: another server name and key path", renderRsyslogClient({ serverAddress: "10.0.0.5", serverName: "logs.example.internal", tls: { keyFile: "/etc/pki/me.key" } }), [
      'StreamDriverPermittedPeers="logs.example.internal"', 'StreamDriver.KeyFile="/etc/pki/me.key"', 'StreamDriver.CertFile="/etc/fleet-log-tls/host.crt"',
    ]],
  ])("%s", (_what, out, lines) => {
    for (const l of lines) expect(out).toContain(`    ${l}\n`);
    // No plain listener or sender, and no anonymous mode, anywhere.
    expect(out).not.toMatch(/authMode="anon"|StreamDriverMode="0"|streamDriver\.mode="0"/i);
    expect(out).not.toContain('input(type="imtcp" port=');
  });

  it.each([
    ["a relative CA path", () => renderRsyslogServer({ allowedSenders: ["10.0.0.11"], tls: { caFile: "ca.pem" } }), /tls\.caFile/],
    ["a quote in a key path", () => renderRsyslogClient({ serverAddress: "10.0.0.5", tls: { keyFile: '/etc/x".key' } }), /tls\.keyFile/],
    ["a server name with a quote", () => renderRsyslogClient({ serverAddress: "10.0.0.5", serverName: 'a"b' }), /serverName/],
  ])("refuses %s", (_what, render, error) => {
    expect(render).toThrow(error);
  });

  it("client forwards everything over TCP with a disk-assisted queue", () => {
    const out = renderRsyslogClient({ serverAddress: "10.0.0.5" });
    expect(out).toContain("*.* action(");
    expect(out).toContain('type="omfwd"');
    expect(out).toContain('protocol="tcp"');
    expect(out).toContain('port="10514"');
    expect(out).toContain('queue.filename="fleet_forward"');
    expect(out).toContain('queue.saveOnShutdown="on"');
    expect(out).toContain('action.resumeRetryCount="-1"');
  });

  it("client without files renders exactly as before the files option", () => {
    for (const o of [{ serverAddress: "10.0.0.5" }, { serverAddress: "logs.internal", port: 6514, queueDir: "/var/lib/fleet-rsyslog" }]) {
      const out = renderRsyslogClient(o);
      expect(renderRsyslogClient({ ...o, files: [] })).toBe(out);
      expect(out).not.toContain("imfile");
      expect(out).not.toContain("stop");
    }
  });

  it("client reads service files with imfile, tags them with the program, and forwards them", () => {
    const out = renderRsyslogClient({
      serverAddress: "10.0.0.5",
      files: [
        { tag: "postgresql", file: "/var/log/postgresql/postgresql-*-main.log" },
        { tag: "redis", file: "/var/log/redis/redis-server*.log" },
      ],
    });
    expect(out.match(/module\(load="imfile"/g)).toHaveLength(1);
    expect(out.match(/type="imfile"/g)).toHaveLength(2);
    // The tag's text before the colon is the programname the server names the file by.
    expect(out).toContain('    File="/var/log/postgresql/postgresql-*-main.log"\n    Tag="postgresql:"\n');
    expect(out).toContain('    File="/var/log/redis/redis-server*.log"\n    Tag="redis:"\n');
    expect(out.match(/reopenOnTruncate="on"/g)).toHaveLength(2);
    // Per-file state is automatic; a fixed stateFile would be shared by a glob's matches.
    expect(out).not.toContain("stateFile");
    // Inputs stay in the default ruleset, where the forward action is; imfile lines stop
    // only after it (so they are forwarded but not copied into /var/log/syslog).
    expect(out).not.toContain("ruleset");
    const forward = out.indexOf("*.* action(");
    const stop = out.indexOf('if $inputname == "imfile" then stop');
    expect(forward).toBeGreaterThan(out.lastIndexOf('type="imfile"'));
    expect(stop).toBeGreaterThan(forward);
    expect(out.trimEnd().endsWith('if $inputname == "imfile" then stop')).toBe(true);
  });

  it("client refuses unsafe tags and paths, and a file listed twice", () => {
    const bad = (tag: string, file: string) => () => renderRsyslogClient({ serverAddress: "10.0.0.5", files: [{ tag, file }] });
    expect(bad("postgresql:", "/var/log/x.log")).toThrow(/files\[0\]\.tag/);
    expect(bad("pg sql", "/var/log/x.log")).toThrow(/files\[0\]\.tag/);
    expect(bad("", "/var/log/x.log")).toThrow(/files\[0\]\.tag/);
    expect(bad("a".repeat(32), "/var/log/x.log")).toThrow(/at most 31 characters/);
    expect(() => bad("a".repeat(31), "/var/log/x.log")()).not.toThrow();
    expect(bad("x", "var/log/x.log")).toThrow(/files\[0\]\.file/);
    expect(bad("x", "/var/log/")).toThrow(/files\[0\]\.file/);
    expect(bad("x", "/var/log/../x.log")).toThrow(/\.\./);
    expect(bad("x", "/var/log/*/x.log")).toThrow(/files\[0\]\.file/);
    expect(bad("x", '/var/log/x".log')).toThrow(/files\[0\]\.file/);
    expect(bad("x", "/var/log/x.log\n)")).toThrow(/files\[0\]\.file/);
    expect(bad("x", "/var/log/..")).toThrow(/files\[0\]\.file/);
    expect(() =>
      renderRsyslogClient({
        serverAddress: "10.0.0.5",
        files: [{ tag: "a", file: "/var/log/x.log" }, { tag: "b", file: "/var/log/x.log" }],
      }),
    ).toThrow(/files\[1\]\.file .* listed twice/);
  });

  it("logrotate rotates per-host files daily with copytruncate", () => {
    const out = renderLogRetention({ logDir: "/var/log/fleet" });
    expect(out).toContain("/var/log/fleet/*/*.log {\n");
    for (const d of ["daily", "rotate 14", "compress", "delaycompress", "missingok", "notifempty", "copytruncate"]) {
      expect(out).toContain(`    ${d}\n`);
    }
  });
});

describe("postgres", () => {
  goldenTable(
    [
      ["pg-hba-local-only", { rules: [] }],
      [
        "pg-hba-app-and-replicas",
        {
          rules: [
            { database: "fleetdemo", user: "fleetdemo", address: "10.0.0.12" },
            { database: "fleetdemo", user: "fleetdemo", address: "10.0.0.11" },
            { database: "fleetdemo", user: "readonly", address: "10.0.1.0/24", method: "scram-sha-256" as const },
            { database: "fleetdemo", user: "fleetdemo", address: "fd00::11" },
          ],
          replication: [{ user: "replicator", address: "10.0.0.6" }],
        },
      ],
    ],
    renderPgHba,
  );
  goldenTable(
    [
      ["postgres-conf-defaults", { listenAddresses: ["localhost", "10.0.0.5"] }],
      [
        "postgres-conf-custom",
        { listenAddresses: ["*"], port: 5433, maxConnections: 300, walLevel: "logical" as const, maxWalSenders: 4, hotStandby: false },
      ],
      ["postgres-conf-archive", { listenAddresses: ["localhost", "10.0.0.5"], archive: { command: "pgbackrest --stanza=django-fleet archive-push %p" } }],
    ],
    renderPostgresConf,
  );

  it("keeps local peer access first and adds host prefixes", () => {
    const out = renderPgHba({ rules: [{ database: "d", user: "u", address: "10.0.0.11" }], replication: [{ user: "r", address: "::2" }] });
    const rows = out.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => l.split(/\s+/).join(" "));
    expect(rows.slice(0, 2)).toEqual(["local all postgres peer", "local all all peer"]);
    expect(rows).toContain("host all all 127.0.0.1/32 scram-sha-256");
    expect(rows).toContain("host all all ::1/128 scram-sha-256");
    expect(rows).toContain("host d u 10.0.0.11/32 scram-sha-256");
    expect(rows[rows.length - 1]).toBe("host replication r ::2/128 scram-sha-256");
  });

  it("pg_hba rejects bad addresses and names", () => {
    expect(() => renderPgHba({ rules: [{ database: "d", user: "u", address: "db.example.com" }] })).toThrow(/address/);
    expect(() => renderPgHba({ rules: [{ database: "d", user: "u", address: "10.0.0.0/40" }] })).toThrow(/prefix length/);
    expect(() => renderPgHba({ rules: [{ database: "d d", user: "u", address: "10.0.0.1" }] })).toThrow(/database/);
    expect(() => renderPgHba({ rules: [{ database: "replication", user: "u", address: "10.0.0.1" }] })).toThrow(/replication/);
  });

  it("postgres.conf has the defaults and refuses senders with wal_level=minimal", () => {
    const out = renderPostgresConf({ listenAddresses: ["localhost", "10.0.0.5"] });
    for (const line of ["listen_addresses = 'localhost,10.0.0.5'", "port = 5432", "max_connections = 100", "wal_level = replica", "max_wal_senders = 10", "hot_standby = on"]) {
      expect(out).toContain(`${line}\n`);
    }
    expect(() => renderPostgresConf({ listenAddresses: [], walLevel: "minimal" })).toThrow(/minimal/);
    expect(renderPostgresConf({ listenAddresses: [], walLevel: "minimal", maxWalSenders: 0 })).toContain("listen_addresses = ''\n");
  });

  it("postgres.conf archives WAL only when asked, after the existing lines", () => {
    const plain = { listenAddresses: ["localhost", "10.0.0.5"] };
    const out = renderPostgresConf({ ...plain, archive: { command: "pgbackrest --stanza=django-fleet archive-push %p" } });
    expect(out).toBe(
      renderPostgresConf(plain) +
        "archive_mode = on\narchive_command = 'pgbackrest --stanza=django-fleet archive-push %p'\narchive_timeout = 60\n",
    );
    expect(renderPostgresConf({ ...plain, archive: { command: "/usr/local/bin/archive %p %f", timeoutSeconds: 0 } })).toContain("\narchive_timeout = 0\n");
    expect(renderPostgresConf({ ...plain, archive: undefined })).not.toContain("archive");
  });

  it("postgres.conf refuses an archive command that could leave its quotes", () => {
    const bad = (command: string, timeoutSeconds?: number) => () =>
      renderPostgresConf({ listenAddresses: [], archive: { command, ...(timeoutSeconds === undefined ? {} : { timeoutSeconds }) } });
    expect(bad("cp %p /x'; archive_mode = 'off")).toThrow(/archive\.command/);
    expect(bad("cp %p /x\narchive_mode = off")).toThrow(/archive\.command/);
    expect(bad("cp %p /x\\")).toThrow(/archive\.command/);
    expect(bad("")).toThrow(/archive\.command/);
    expect(bad("cp %p /x", -1)).toThrow(/archive\.timeoutSeconds/);
    expect(bad("cp %p /x", 1.5)).toThrow(/archive\.timeoutSeconds/);
  });
});

describe("renderRedisConf", () => {
  goldenTable(
    [
      ["redis-defaults", { instance: "shop", bindAddresses: ["127.0.0.1", "10.0.0.5"] }],
      ["redis-custom", { instance: "blog", bindAddresses: ["10.0.0.5", "-::1"], port: 6380 }],
    ],
    renderRedisConf,
  );

  it("binds, protects and includes the app's secret file instead of holding a password", () => {
    const out = renderRedisConf({ instance: "shop", bindAddresses: ["127.0.0.1"] });
    expect(out).toContain("bind 127.0.0.1\n");
    expect(out).toContain("protected-mode yes\n");
    expect(out.trimEnd().split("\n").at(-1)).toBe("include /etc/redis/redis-shop-secret.conf");
    expect(out).not.toContain("requirepass");
    expect(() => renderRedisConf({ instance: "shop", bindAddresses: [] })).toThrow(/bindAddresses is empty/);
    expect(() => renderRedisConf({ instance: "shop", bindAddresses: ["0.0.0.0 --x"] })).toThrow(/bindAddresses\[0\]/);
    expect(() => renderRedisConf({ instance: "../x", bindAddresses: ["127.0.0.1"] })).toThrow(/redis instance/);
  });

  // Each app's server has files of its own: no two apps share a config, secret, snapshot or log.
  it.each([
    ["shop", { unit: "redis-server@shop.service", conf: "/etc/redis/redis-shop.conf", secret: "/etc/redis/redis-shop-secret.conf", log: "/var/log/redis/redis-server-shop.log", dbFilename: "dump-shop.rdb" }],
    ["blog-2", { unit: "redis-server@blog-2.service", conf: "/etc/redis/redis-blog-2.conf", secret: "/etc/redis/redis-blog-2-secret.conf", log: "/var/log/redis/redis-server-blog-2.log", dbFilename: "dump-blog-2.rdb" }],
  ])("paths of %s's server", (app, want) => {
    expect(redisInstancePaths(app)).toEqual(want);
    const conf = renderRedisConf({ instance: app, bindAddresses: ["127.0.0.1"], port: 6400 });
    expect(conf).toContain(`dbfilename ${want.dbFilename}\n`);
    expect(conf).toContain(`logfile ${want.log}\n`);
    expect(conf).toContain(`pidfile /run/redis-${app}/redis-server.pid\n`);
    expect(conf).toContain("port 6400\n");
  });
});

describe("sharedMemcachedWarning", () => {
  it.each([
    [[], undefined],
    [["shop"], undefined],
    [["shop", "blog"], /apps shop, blog share one memcached, which has no authentication/],
    [["a", "b", "c"], /apps a, b, c share one memcached/],
  ] as const)("apps %j", (apps, want) => {
    const w = sharedMemcachedWarning(apps);
    if (want === undefined) expect(w).toBeUndefined();
    else {
      expect(w).toMatch(want);
      expect(w).toContain('cache.kind "redis"');
    }
  });
});
