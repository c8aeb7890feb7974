/**
 * The bench's end-state check (bench/peers/assertServing.ts) fails on a host that is not
 * serving the app, and passes on one that serves the page dev.test.ts expects. Local HTTP
 * servers stand in for the hosts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { assertServing, pageMarkers } from "../../bench/peers/assertServing.ts";

const HOST = "peer-bash";

/** A page as examples/app renders it once the worker and beat ran on `host`. */
function appPage(host: string, o: { task?: boolean; beat?: boolean; rows?: string[] } = {}): string {
  const rows = (o.rows ?? ["alpha", "beta", "gamma"]).map((r) => `<li class="note">${r}</li>\n    `).join("");
  return [
    "<!doctype html>", "<html lang=\"en\">", "<body>", "  <h1>fleetdemo</h1>",
    `  <ul id="notes">\n    ${rows}\n  </ul>`,
    o.task === false ? '  <p id="task">add=pending</p>' : `  <p id="task">add=5 on ${host}</p>`,
    o.beat === false ? '  <p id="beat">beat=pending</p>' : `  <p id="beat">beat on ${host}</p>`,
    `  <p id="served-by">${host}</p>`, "</body>", "</html>", "",
  ].join("\n");
}

interface Site { page?: string; css?: boolean; cssServer?: string; health?: string; status?: number }

const servers: Server[] = [];

async function serve(site: Site): Promise<string> {
  const server = createServer((req, res) => {
    if (req.url === "/" && site.page !== undefined) {
      res.writeHead(site.status ?? 200, { "content-type": "text/html" }).end(site.page);
    } else if (req.url === "/static/notes/site.css" && site.css) {
      res.writeHead(200, { "content-type": "text/css", server: site.cssServer ?? "nginx/1.26.3" }).end("body { margin: 0 }\n");
    } else if (req.url === "/healthz" && site.health !== undefined) {
      res.writeHead(200, { "content-type": "text/plain" }).end(site.health);
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const fast = { timeoutMs: 600, pollMs: 100, requestTimeoutMs: 1000 };
const full: Site = { page: appPage(HOST), css: true, health: "ok" };

describe("assertServing", () => {
  it("passes on a host serving the dev stack's page, static file and health check", async () => {
    const url = await serve(full);
    const r = await assertServing({ url, workerHost: HOST, ...fast });
    expect(r.body).toContain(pageMarkers(HOST).task);
  });

  it("fails on a host that is not serving the app (a web server answering something else)", async () => {
    const url = await serve({ page: "<html><body>Welcome to nginx!</body></html>", css: false });
    await expect(assertServing({ url, workerHost: HOST, ...fast })).rejects.toThrow(/is not serving the dev stack's page[\s\S]*alpha[\s\S]*site\.css[\s\S]*healthz/);
  });

  it("fails on a host where nothing listens", async () => {
    const url = await serve(full);
    await new Promise((r) => servers.pop()!.close(r));
    await expect(assertServing({ url, workerHost: HOST, ...fast })).rejects.toThrow(/status \(no answer\)/);
  });

  it("fails when the Celery task or beat never ran, or ran on another host", async () => {
    for (const page of [appPage(HOST, { task: false }), appPage(HOST, { beat: false }), appPage("fleet-e2e")]) {
      const url = await serve({ ...full, page });
      await expect(assertServing({ url, workerHost: HOST, ...fast })).rejects.toThrow(/does not show <p id="(task|beat)">/);
    }
  });

  it("fails without the rows from PostgreSQL", async () => {
    const url = await serve({ ...full, page: appPage(HOST, { rows: [] }) });
    await expect(assertServing({ url, workerHost: HOST, ...fast })).rejects.toThrow(/<li class="note">alpha<\/li>/);
  });

  it("fails when the page is an error page that happens to hold the markers", async () => {
    const url = await serve({ ...full, status: 500 });
    await expect(assertServing({ url, workerHost: HOST, ...fast })).rejects.toThrow(/status 500/);
  });

  it("fails when the static file is not nginx's, or the health check is not ok", async () => {
    const byApp = await serve({ ...full, cssServer: "gunicorn" });
    await expect(assertServing({ url: byApp, workerHost: HOST, ...fast })).rejects.toThrow(/not served by nginx \(Server: gunicorn\)/);
    const sick = await serve({ ...full, health: "database unavailable\n" });
    await expect(assertServing({ url: sick, workerHost: HOST, ...fast })).rejects.toThrow(/healthz/);
  });

  it("waits for the task to finish, as the e2e test does", async () => {
    const site: Site = { ...full, page: appPage(HOST, { task: false }) };
    const url = await serve(site);
    setTimeout(() => { site.page = appPage(HOST); }, 250);
    const r = await assertServing({ url, workerHost: HOST, timeoutMs: 3000, pollMs: 100, requestTimeoutMs: 1000 });
    expect(r.waitedMs).toBeGreaterThanOrEqual(200);
  });
});
