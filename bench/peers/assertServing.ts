/**
 * The benchmark's end-state check, the same as test/e2e/dev.test.ts's: the page at
 * http://<host>/ lists the rows from PostgreSQL and shows a finished Celery task and a
 * beat run (both recorded by the worker on that host), its static file is served by
 * nginx, and /healthz answers `ok`. A run of any tool counts only once this passes, so a
 * peer that does less cannot win.
 */

export interface ServingOptions {
  /** The site, e.g. `http://198.18.0.10/` (with the trailing slash). */
  readonly url: string;
  /** The host name the Celery worker and beat report (the server's hostname). */
  readonly workerHost: string;
  /** How long the page may take to show the task and beat results. @default 90_000 */
  readonly timeoutMs?: number;
  /** Pause between tries. @default 2000 */
  readonly pollMs?: number;
  /** Per request. @default 5000 */
  readonly requestTimeoutMs?: number;
}

/** What was seen, for the bench's log. */
export interface ServingResult {
  readonly body: string;
  /** Milliseconds until the page showed the task and beat results. */
  readonly waitedMs: number;
}

/** The page's markers, as the e2e test greps for them (examples/app/notes/templates/notes/index.html). */
export function pageMarkers(workerHost: string): { readonly rows: readonly string[]; readonly task: string; readonly beat: string } {
  // As Django's template escaping writes it (a host name has none of these anyway).
  const escapes: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#x27;" };
  const host = workerHost.replace(/[&<>"']/g, (c) => escapes[c]!);
  return {
    rows: ['<li class="note">alpha</li>', '<li class="note">gamma</li>'],
    task: `<p id="task">add=5 on ${host}</p>`,
    beat: `<p id="beat">beat on ${host}</p>`,
  };
}

async function get(url: string, timeoutMs: number): Promise<{ status: number; server: string | null; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, server: res.headers.get("server"), body: await res.text() };
}

/**
 * Waits until the page shows the task and beat results (as dev.test.ts's waitForPage),
 * then checks everything dev.test.ts checks. Throws an Error naming every check that
 * failed and the start of the last body seen.
 */
export async function assertServing(o: ServingOptions): Promise<ServingResult> {
  const base = o.url.endsWith("/") ? o.url : `${o.url}/`;
  const timeoutMs = o.timeoutMs ?? 90_000;
  const pollMs = o.pollMs ?? 2000;
  const requestMs = o.requestTimeoutMs ?? 5000;
  const m = pageMarkers(o.workerHost);
  const started = Date.now();
  let body = "";
  let status = 0;
  for (;;) {
    try {
      const r = await get(base, requestMs);
      body = r.body;
      status = r.status;
      if (r.status >= 200 && r.status < 300 && body.includes(m.task) && body.includes(m.beat)) break;
    } catch (e) {
      body = String(e);
      status = 0;
    }
    if (Date.now() - started + pollMs > timeoutMs) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  const waitedMs = Date.now() - started;

  const failures: string[] = [];
  if (status < 200 || status >= 300) failures.push(`GET ${base}: status ${status || "(no answer)"}`);
  for (const want of [...m.rows, m.task, m.beat]) if (!body.includes(want)) failures.push(`the page does not show ${want}`);
  const css = await get(`${base}static/notes/site.css`, requestMs).catch((e: unknown) => ({ status: 0, server: null, body: String(e) }));
  if (css.status !== 200) failures.push(`GET ${base}static/notes/site.css: status ${css.status || "(no answer)"}`);
  if (!/^nginx/.test(css.server ?? "")) failures.push(`${base}static/notes/site.css is not served by nginx (Server: ${css.server ?? "none"})`);
  const health = await get(`${base}healthz`, requestMs).catch((e: unknown) => ({ status: 0, server: null, body: String(e) }));
  if (health.body !== "ok") failures.push(`GET ${base}healthz: ${JSON.stringify(health.body.slice(0, 80))} (status ${health.status || "no answer"}), not "ok"`);

  if (failures.length) {
    throw new Error([
      `${base} is not serving the dev stack's page (waited ${(waitedMs / 1000).toFixed(1)} s):`,
      ...failures.map((f) => `  - ${f}`),
      `last body: ${JSON.stringify(body.slice(0, 300))}`,
    ].join("\n"));
  }
  return { body, waitedMs };
}
