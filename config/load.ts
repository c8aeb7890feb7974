/**
 * Turns the raw Pulumi config of a stack into a validated StackConfig, or into one error
 * that lists every bad key with its value and the command that fixes it. Pure: the
 * caller passes the raw key/value map (pulumi.runtime.allConfig()).
 */
import { z } from "zod";
import { stackSchema, type StackConfig } from "./schema.ts";

export const NAMESPACE = "django-fleet";

/** Raised for invalid config, before any resource is registered. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(
      `django-fleet: the stack config is invalid; nothing was changed on any server.\n`
      + problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Top-level keys that hold plain strings even when they look like JSON. */
const STRING_KEYS = new Set(["inventoryFile", "sshPrivateKeyPath"]);

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? "nothing" : s.length > 60 ? s.slice(0, 57) + "..." : s;
}

function at(obj: unknown, path: PropertyKey[]): unknown {
  let v = obj;
  for (const k of path) v = v != null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[k] : undefined;
  return v;
}

function dotted(path: PropertyKey[]): string {
  return path.map((k, i) => (typeof k === "number" ? `[${k}]` : `${i ? "." : ""}${String(k)}`)).join("");
}

/** Formats one zod issue as `key: problem, got VALUE. Fix: ...`. */
function describe(issue: z.core.$ZodIssue, input: unknown): string[] {
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((k) => {
      const key = dotted([...issue.path, k]);
      return `${key}: unknown key. Fix: remove it (\`pulumi config rm --path '${key}'\`) or correct its spelling`;
    });
  }
  const key = dotted(issue.path) || "(stack)";
  const value = at(input, issue.path);
  const missing = value === undefined;
  const what = missing ? "is required" : issue.message.replace(/^Invalid input: /, "");
  const fix = `\`pulumi config set --path '${key}' <value>\``;
  return [`${key}: ${what}${missing ? "" : `, got ${show(value)}`}. Fix: ${fix}`];
}

/** Parses the raw config map. Only keys in our namespace are read. */
export function parseConfig(raw: Record<string, string>): StackConfig {
  const input: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const [ns, ...rest] = k.split(":");
    if (ns !== NAMESPACE) continue;
    const key = rest.filter((p) => p !== "config").join(":");
    if (STRING_KEYS.has(key)) { input[key] = v; continue; }
    try { input[key] = JSON.parse(v); } catch { input[key] = v; }
  }
  const result = stackSchema.safeParse(input);
  if (!result.success) throw new ConfigError(result.error.issues.flatMap((i) => describe(i, input)));
  return result.data;
}
