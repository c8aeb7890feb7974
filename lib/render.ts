/**
 * Helpers shared by the renderers. Everything here is pure and deterministic: a renderer's
 * output depends only on its options, so a diff in a rendered file always means a config
 * change (and Pulumi only replaces a remote file when its content really changed).
 */

/** The notice every rendered file starts with, after the format's comment marker. */
export const MANAGED_NOTICE =
  "Managed by django-fleet (pulumi). Manual edits are reverted on the next `pulumi up`.";

/** The first line of a rendered file, e.g. `managedHeader("#")`. */
export function managedHeader(commentMarker: string = "#"): string {
  return `${commentMarker} ${MANAGED_NOTICE}`;
}

/**
 * Joins lines into a file body ending with exactly one newline. `false`/`undefined`
 * entries are dropped so optional lines can be written inline; runs of blank lines
 * collapse to one and trailing blanks go, so optional blocks never leave gaps.
 */
export function renderLines(lines: ReadonlyArray<string | false | undefined>): string {
  const out: string[] = [];
  for (const line of lines) {
    if (line === false || line === undefined) continue;
    if (line === "" && (out.length === 0 || out[out.length - 1] === "")) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}

/** Returns `value` if given, else `fallback` (explicit, so `0` and `""` are kept). */
export function withDefault<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/**
 * Throws unless `value` matches `pattern`. Renderers splice values into config syntax,
 * so anything that could close a quote, a block or a line is refused rather than escaped.
 */
export function assertMatches(what: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value)) {
    throw new Error(`${what} ${JSON.stringify(value)} is invalid: expected ${expected}`);
  }
  return value;
}

/** Throws unless `value` is an integer in [min, max]. */
export function assertInt(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${what} ${value} is invalid: expected an integer from ${min} to ${max}`);
  }
  return value;
}

/** Throws unless `value` is a TCP port. */
export function assertPort(what: string, value: number): number {
  return assertInt(what, value, 1, 65535);
}

/** An absolute path without whitespace, quotes or config metacharacters. */
// Each segment must end at a slash or the end: no nested quantifiers, so no backtracking blow-up.
const SAFE_PATH = /^\/(?:[A-Za-z0-9._@+-]+\/)*[A-Za-z0-9._@+-]*$/;

/**
 * Throws unless `value` is an absolute path that is safe to write unquoted in any of the
 * formats rendered here (nginx, systemd, rsyslog, logrotate): no spaces, `;`, `%`, `$`,
 * quotes or braces, and no `..` segment.
 */
export function assertPath(what: string, value: string): string {
  assertMatches(what, value, SAFE_PATH, "an absolute path of [A-Za-z0-9._@+-] segments");
  if (value.split("/").includes("..")) {
    throw new Error(`${what} ${JSON.stringify(value)} is invalid: ".." segments are not allowed`);
  }
  return value;
}

/** `path` without trailing slashes (`/` stays `/`). */
export function stripTrailingSlash(path: string): string {
  const stripped = path.replace(/\/+$/, "");
  return stripped === "" ? "/" : stripped;
}

/** A name usable in file names, unit names and nginx/rsyslog identifiers. */
export function assertName(what: string, value: string): string {
  return assertMatches(what, value, /^[A-Za-z0-9][A-Za-z0-9_-]*$/, "letters, digits, '_' and '-', starting with a letter or digit");
}

/** A host for `host:port` syntax: an IPv4 address, a DNS name, or an IPv6 address (bracketed on output). */
export function assertHost(what: string, value: string): string {
  return assertMatches(
    what,
    value,
    /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/,
    "an IP address or a DNS name",
  );
}

/** `host:port`, with an IPv6 host written as `[host]:port`. */
export function hostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
