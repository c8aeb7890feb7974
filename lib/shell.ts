/**
 * The one quoting helper for shell. Every value that reaches a remote script goes
 * through `quote`, so no config value can change a script's meaning.
 */

/** Quotes one word for POSIX sh/bash: single quotes, with `'` written as `'\''`. */
export function quote(value: string | number): string {
  const s = String(value);
  if (s !== "" && /^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quotes each word and joins them with spaces: `cmd("install", "-m", "0600", path)`. */
export function cmd(...words: Array<string | number>): string {
  return words.map(quote).join(" ");
}

/**
 * Builds a remote script body. Scripts run as `bash -euo pipefail -s` with this body on
 * stdin (see providers/ssh.ts), so they stop at the first failing step.
 */
export function script(...lines: Array<string | false | undefined>): string {
  return lines.filter((l): l is string => typeof l === "string" && l !== "").join("\n") + "\n";
}

/** A heredoc that writes `content` verbatim to stdout of `cat`; the marker cannot occur in it. */
export function heredoc(content: string): string {
  let marker = "FLEET_EOF";
  while (content.includes(marker)) marker += "_";
  return `<<'${marker}'\n${content}${content.endsWith("\n") ? "" : "\n"}${marker}`;
}
