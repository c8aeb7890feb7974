/**
 * Operations of the RemoteFile provider: one file on a host, with content, mode and
 * owner. Split as probe (a command plus a pure parser) and plan (desired vs observed to
 * the script that closes the gap, empty when there is nothing to do).
 */
import { dirname } from "node:path";
import { cmd, heredoc, script } from "../lib/shell.ts";
import { run, type Connection } from "./ssh.ts";

/** The inputs (and outputs) of a RemoteFile. */
export interface FileState {
  readonly connection: Connection;
  readonly path: string;
  readonly content: string;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  readonly schema?: number;
  /**
   * Output only: when a run last wrote the file or found it needed writing (ISO time).
   * Undefined in state written by older code.
   */
  readonly written?: string;
}

/** What the probe saw on the host; `undefined` when the file is missing. */
export interface ObservedFile {
  readonly content: string;
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
}

/** The probe: prints `MISSING`, or `mode owner group` and the base64 content. */
export function probeScript(path: string): string {
  return script(
    `p=${cmd(path)}`,
    `if [ ! -f "$p" ]; then echo MISSING; exit 0; fi`,
    `stat -c '%a %U %G' "$p"`,
    `base64 -w0 "$p"; echo`,
  );
}

export function parseProbe(stdout: string): ObservedFile | undefined {
  const lines = stdout.split("\n");
  if (lines[0]?.trim() === "MISSING") return undefined;
  const [mode, owner, group] = (lines[0] ?? "").trim().split(" ");
  if (!mode || !owner || !group) throw new Error(`unexpected file probe output: ${JSON.stringify(lines[0])}`);
  return {
    mode: mode.padStart(4, "0"),
    owner,
    group,
    content: Buffer.from((lines[1] ?? "").trim(), "base64").toString("utf8"),
  };
}

/**
 * Where the package's original of a file we took over is kept: outside its folder, since
 * folders such as nginx's sites-enabled load every file in them.
 */
export function originalPath(path: string): string {
  return `/var/lib/django-fleet/originals${path}`;
}

/**
 * The plan: the script that turns `observed` into `desired`, or "" when they match.
 * `takeOver` (on create): a file already there came from a package or a person; keep it
 * so delete can put it back.
 */
export function plan(desired: FileState, observed: ObservedFile | undefined, takeOver = false): string {
  if (observed && observed.content === desired.content && observed.mode === desired.mode
      && observed.owner === desired.owner && observed.group === desired.group) {
    return "";
  }
  // Written to a temporary file beside the target and renamed: readers never see half a
  // file, and an interrupted run leaves the old file in place.
  return script(
    `p=${cmd(desired.path)}`,
    // An existing directory keeps its mode and owner (install -d would reset them).
    `d=${cmd(dirname(desired.path))}; [ -d "$d" ] || install -d -m 0755 "$d"`,
    // Taking over a file a package installed: keep the original, which delete puts back
    // (a package's config, such as pg_hba.conf, must not just vanish).
    takeOver && observed !== undefined && `o=${cmd(originalPath(desired.path))}; if [ ! -e "$o" ]; then install -d -m 0700 "$(dirname "$o")"; cp -p "$p" "$o"; fi`,
    `tmp=$(mktemp "$p.fleet.XXXXXX")`,
    `trap 'rm -f "$tmp"' EXIT`,
    `cat > "$tmp" ${heredoc(desired.content)}`,
    // heredoc always ends in a newline; drop it when the content has none.
    !desired.content.endsWith("\n") && `truncate -s -1 "$tmp"`,
    `chown ${cmd(`${desired.owner}:${desired.group}`)} "$tmp"`,
    `chmod ${cmd(desired.mode)} "$tmp"`,
    `mv -f "$tmp" "$p"`,
    `trap - EXIT`,
  );
}

/** Writes what differs; true when something was written. */
async function converge(s: FileState, takeOver: boolean): Promise<boolean> {
  const observed = parseProbe((await run(s.connection, probeScript(s.path), { step: `read ${s.path}` })).stdout);
  const body = plan(s, observed, takeOver);
  if (body) await run(s.connection, body, { step: `write ${s.path}` });
  return body !== "";
}

/** A new `written` stamp: unique per write, and it reads as the time it was taken. */
export function stamp(): string {
  return new Date().toISOString();
}

/**
 * The `written` an update records. A new stamp when it wrote, and also when the recorded
 * file differs from the desired one although nothing was written now: a killed run wrote
 * it before recording it, and the reload that write needs is still to come. Otherwise the
 * old stamp (none in older state: a fixed one, so the upgrade reloads nothing).
 */
export function writtenAfter(olds: FileState, news: FileState, wrote: boolean, now: string): string {
  const differed = FILE_KEYS.some((k) => olds[k] !== news[k]);
  return wrote || differed ? now : olds.written ?? UNTRACKED;
}

/** The stamp of a file recorded before stamps existed and not written since. */
export const UNTRACKED = "before write stamps";
const FILE_KEYS = ["path", "content", "mode", "owner", "group"] as const;

export async function check(_olds: unknown, news: FileState) {
  const failures = [];
  if (!news.path?.startsWith("/")) failures.push({ property: "path", reason: `must be an absolute path, got ${JSON.stringify(news.path)}` });
  if (!/^0?[0-7]{3}$/.test(news.mode ?? "")) failures.push({ property: "mode", reason: `must be an octal mode like 0644, got ${JSON.stringify(news.mode)}` });
  return { inputs: { ...news, mode: news.mode?.padStart(4, "0") }, failures };
}

export async function create(inputs: FileState) {
  await converge(inputs, true);
  return { id: `${inputs.connection.host}:${inputs.path}`, outs: { ...inputs, written: stamp() } };
}

const CONTENT_KEYS = ["content", "mode", "owner", "group", "schema"] as const;

export async function diff(_id: string, olds: FileState, news: FileState) {
  const replaces = [];
  if (olds.path !== news.path) replaces.push("path");
  if (olds.connection?.host !== news.connection?.host) replaces.push("connection");
  const changed = CONTENT_KEYS.filter((k) => olds[k] !== news[k]);
  // A new key, user or pinned host key must reach the stored outputs, which refresh and
  // delete use: an in-place update.
  if (JSON.stringify(olds.connection) !== JSON.stringify(news.connection)) changed.push("schema");
  // State from before write stamps: one update records a stamp (no write, no reload).
  if (olds.written === undefined) changed.push("schema");
  return {
    changes: replaces.length > 0 || changed.length > 0,
    replaces,
    deleteBeforeReplace: false,
  };
}

export async function update(_id: string, olds: FileState, news: FileState) {
  const wrote = await converge(news, false);
  return { outs: { ...news, written: writtenAfter(olds, news, wrote, stamp()) } };
}

/** Reports the file as it is on the host, so `pulumi refresh` shows a hand edit. */
export async function read(id: string, props: FileState) {
  const observed = parseProbe((await run(props.connection, probeScript(props.path), { step: `read ${props.path}` })).stdout);
  if (!observed) return { id: "", props: {} }; // gone: the next `up` creates it again
  return { id, props: { ...props, ...observed } };
}

/** Removes the file, or puts back the package's original that the first write replaced. */
export function deleteScript(path: string): string {
  return script(
    `p=${cmd(path)}; o=${cmd(originalPath(path))}`,
    `if [ -e "$o" ]; then mv -f "$o" "$p"; else rm -f "$p"; fi`,
  );
}

export async function delete_(_id: string, props: FileState) {
  await run(props.connection, deleteScript(props.path), { step: `remove ${props.path}` });
}
export { delete_ as delete };
