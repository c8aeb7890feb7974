import { managedHeader, renderLines } from "../../lib/render.ts";

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Quotes one value for a systemd `EnvironmentFile=` (systemd.exec(5)): inside double quotes
 * a backslash before any of `"` `\` `` ` `` `$` yields that character, and a newline is
 * kept verbatim (there is no `\n` escape: `\n` would stay two characters). The same text
 * means the same value to a POSIX shell, so deploy scripts can `set -a; . file` it too.
 */
export function quoteEnvValue(value: string): string {
  return `"${value.replace(/["\\`$]/g, (c) => `\\${c}`)}"`;
}

/**
 * Renders a systemd EnvironmentFile with keys sorted (so reordering config causes no diff).
 * Throws, naming the key, on a key that is not `[A-Za-z_][A-Za-z0-9_]*` or on a value that
 * cannot be stored (NUL, a byte-order mark, or a lone UTF-16 surrogate, which is not UTF-8).
 */
export function renderEnvFile(vars: Readonly<Record<string, string>>): string {
  const keys = Object.keys(vars).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = keys.map((key) => {
    if (!KEY.test(key)) {
      throw new Error(`environment variable name ${JSON.stringify(key)} is invalid: expected [A-Za-z_][A-Za-z0-9_]*`);
    }
    const value = vars[key];
    if (typeof value !== "string") {
      throw new Error(`environment variable ${key}: value must be a string, got ${typeof value}`);
    }
    // systemd refuses NUL and U+FEFF; a lone surrogate has no UTF-8 encoding at all.
    if (/[\0\uFEFF]|\p{Surrogate}/u.test(value)) {
      throw new Error(`environment variable ${key}: value contains NUL, U+FEFF or a lone surrogate, which an environment file cannot hold`);
    }
    return `${key}=${quoteEnvValue(value)}`;
  });
  return renderLines([managedHeader("#"), ...lines]);
}
