/**
 * The process test/helpers/gitHttp.ts starts: serves the bare repositories under a folder
 * over git's smart HTTP (`git http-backend`, as CGI) to whoever gives HTTP Basic auth
 * with one user and token, and answers 401 to anyone else. Each request's outcome is
 * appended to a JSON-lines file. Its settings come on stdin (the token is on no command
 * line); it prints `listening <port>` once it listens, and stops on SIGTERM.
 */
import { spawn } from "node:child_process";
import { appendFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the parent writes on stdin, as JSON. */
export interface ServerSettings {
  /** Folder holding the bare repositories (`<root>/<name>.git`). */
  readonly root: string;
  readonly user: string;
  readonly token: string;
  /** Address to listen on (port: a free one). */
  readonly listen: string;
  /** Where each request's outcome is appended (one JSON object a line). */
  readonly log: string;
  /** Held before each answer (see gitHttp.ts). */
  readonly delayMs: number;
}

/** One request, as the log records it. */
export interface RequestRecord {
  readonly remote: string;
  readonly method: string;
  readonly path: string;
  /** `none`: no Authorization header; `wrong`: another user or token; `ok`: ours. */
  readonly auth: "none" | "wrong" | "ok";
  readonly status: number;
}

function authOf(req: IncomingMessage, s: ServerSettings): RequestRecord["auth"] {
  const h = req.headers.authorization;
  if (!h) return "none";
  const m = /^Basic\s+(\S+)$/i.exec(h);
  if (!m) return "wrong";
  const pair = Buffer.from(m[1]!, "base64").toString("utf8");
  return pair === `${s.user}:${s.token}` ? "ok" : "wrong";
}

/** The CGI environment of one request (RFC 3875), as git http-backend reads it. */
function cgiEnv(req: IncomingMessage, url: URL, s: ServerSettings): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: s.root,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ""),
    REMOTE_ADDR: req.socket.remoteAddress ?? "",
    REMOTE_USER: s.user,
    AUTH_TYPE: "Basic",
  };
  if (req.headers["content-type"]) env.CONTENT_TYPE = req.headers["content-type"];
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  // Every other header as HTTP_*: git's Git-Protocol (v2) and Content-Encoding (gzip) among them.
  for (const [k, v] of Object.entries(req.headers)) {
    if (k === "authorization" || v === undefined) continue;
    env[`HTTP_${k.toUpperCase().replace(/-/g, "_")}`] = Array.isArray(v) ? v.join(", ") : v;
  }
  return env;
}

/** Runs git http-backend for the request and relays its CGI answer (headers, then body). */
function backend(req: IncomingMessage, res: ServerResponse, url: URL, s: ServerSettings, done: (status: number) => void): void {
  // safe.directory: the repositories may belong to another user than this process.
  const child = spawn("git", ["-c", "safe.directory=*", "-c", "http.receivepack=false", "http-backend"], { env: cgiEnv(req, url, s), stdio: ["pipe", "pipe", "inherit"] });
  req.pipe(child.stdin);
  child.stdin.on("error", () => undefined);
  let head = Buffer.alloc(0);
  let status = 200;
  let inBody = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (inBody) { res.write(chunk); return; }
    head = Buffer.concat([head, chunk]);
    const text = head.toString("latin1");
    const m = /\r?\n\r?\n/.exec(text);
    if (!m) return;
    for (const line of text.slice(0, m.index).split(/\r?\n/)) {
      const at = line.indexOf(":");
      if (at < 0) continue;
      const name = line.slice(0, at).trim();
      const value = line.slice(at + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else res.setHeader(name, value);
    }
    res.statusCode = status;
    inBody = true;
    const rest = head.subarray(Buffer.byteLength(text.slice(0, m.index + m[0].length), "latin1"));
    if (rest.length) res.write(rest);
  });
  child.on("close", (code) => {
    if (!inBody) { status = 500; res.statusCode = 500; res.end(`git http-backend exited with ${code}\n`); }
    else res.end();
    done(status);
  });
}

function main(s: ServerSettings): void {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://test");
    const auth = authOf(req, s);
    const record = (status: number) => {
      const r: RequestRecord = { remote: req.socket.remoteAddress ?? "", method: req.method ?? "", path: url.pathname, auth, status };
      appendFileSync(s.log, `${JSON.stringify(r)}\n`);
    };
    setTimeout(() => {
      if (auth !== "ok") {
        req.resume();
        res.writeHead(401, { "WWW-Authenticate": 'Basic realm="django-fleet test"', "Content-Type": "text/plain" });
        res.end("authentication required\n");
        record(401);
        return;
      }
      backend(req, res, url, s, record);
    }, s.delayMs);
  });
  server.listen(0, s.listen, () => {
    process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`);
  });
  process.on("SIGTERM", () => { server.close(); server.closeAllConnections(); process.exit(0); });
  // A parent that died without stopping it (a killed test worker) must not leave it listening.
  const parent = process.ppid;
  setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 1000).unref();
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d: string) => { input += d; });
process.stdin.on("end", () => main(JSON.parse(input) as ServerSettings));
