/**
 * Turns the raw Pulumi config of a stack into a validated StackConfig, or into one error
 * that lists every bad key with its value and the command that fixes it. Pure: the
 * caller passes the raw key/value map (pulumi.runtime.allConfig()).
 */
import { z } from "zod";
import { repoCredentials, stackSchema, type StackConfig } from "./schema.ts";

export const NAMESPACE = "django-fleet";

/**
 * Raised for invalid config, before any resource is registered. Pulumi prints a RunError
 * as its message alone: no stack trace, and no `util.inspect` of the error (which on
 * Node 22 loops over @pulumi/pulumi's frames for a minute and 3 GB before giving up).
 */
export class ConfigError extends Error {
  declare readonly problems: string[];
  /** The marker `pulumi.RunError.isInstance` looks for (this file stays free of @pulumi/pulumi). */
  declare readonly __pulumiRunError: boolean;
  constructor(problems: string[]) {
    super(
      `django-fleet: the stack config is invalid; nothing was changed on any server.\n`
      + problems.map((p) => `  - ${p}`).join("\n"),
    );
    this.name = "ConfigError";
    // Not enumerable: the message already lists every problem once.
    Object.defineProperty(this, "problems", { value: problems, enumerable: false });
    Object.defineProperty(this, "__pulumiRunError", { value: true, enumerable: false });
    this.stack = this.message;
  }
}

/**
 * Edit distance, for namespace typos (`django-flet:protectData`): insertions, deletions,
 * substitutions and swaps of two neighbouring letters (`djnago`) count one edit each.
 */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * How far a namespace may be from ours and still be taken for a typo of it: four edits
 * (`djnago-felt` is three with swaps), while the namespaces a stack really uses (`aws`,
 * `pulumi`, `command`, `random`, ...) are eight or more away.
 */
const TYPO_EDITS = 4;

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
      return `${key}: unknown key. Fix: remove it (\`npm run pulumi -- config rm --path '${key}'\`) or correct its spelling`;
    });
  }
  const key = dotted(issue.path) || "(stack)";
  const value = at(input, issue.path);
  // A rule about a default the user never set still has something to say.
  const missing = value === undefined && issue.code !== "custom";
  const what = missing ? "is required" : issue.message.replace(/^Invalid input: /, "");
  // A rule's own message that names its fix is complete as it is.
  // `<app>` in a message stands for the app's own key (`app`, `apps[1]`).
  if (issue.code === "custom" && issue.message.includes("Fix:")) return [`${key}: ${issue.message.replaceAll("<app>", dotted(issue.path.slice(0, -1)))}`];
  const fix = `\`npm run pulumi -- config set --path '${key}' <value>\``;
  // app.env values may be secrets (config set --secret --path): never echoed.
  // So are object-store credentials.
  const hidden = (issue.path[0] === "app" && issue.path[1] === "env") || (issue.path[0] === "apps" && issue.path[2] === "env")
    || issue.path.some((k) => k === "accessKeyId" || k === "secretAccessKey" || k === "repoToken")
    // A repository URL with a token in it: the token is not echoed either.
    || (issue.path.at(-1) === "repo" && typeof value === "string" && repoCredentials(value));
  return [`${key}: ${what}${missing || hidden || value === undefined ? "" : `, got ${show(value)}`}. Fix: ${fix}`];
}

/** Parses the raw config map. Only keys in our namespace are read. */
export function parseConfig(raw: Record<string, string>): StackConfig {
  const input: Record<string, unknown> = {};
  const typos: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    const [ns, ...rest] = k.split(":");
    if (ns !== NAMESPACE) {
      // Pulumi ignores other namespaces silently; a near miss of ours is almost surely a typo
      // (`django-flet:protectData: true` would leave prod unprotected).
      if (ns && distance(ns.toLowerCase(), NAMESPACE) <= TYPO_EDITS) {
        typos.push(`${k}: the namespace "${ns}" is not "${NAMESPACE}", so this key would be ignored. Fix: \`npm run pulumi -- config rm '${k}'\` and set it as ${NAMESPACE}:${rest.join(":")}`);
      }
      continue;
    }
    const key = rest.filter((p) => p !== "config").join(":");
    if (STRING_KEYS.has(key)) { input[key] = v; continue; }
    try { input[key] = JSON.parse(v); } catch { input[key] = v; }
  }
  // JSON.parse makes "__proto__" an own key, which validators skip: refuse it outright.
  const protoKeys: string[] = [];
  const walk = (v: unknown, path: PropertyKey[]) => {
    if (v === null || typeof v !== "object") return;
    for (const k of Object.keys(v)) {
      if (k === "__proto__") protoKeys.push(`${dotted([...path, k])}: is not allowed as a key. Fix: remove it (\`npm run pulumi -- config rm --path '${dotted(path)}'\` and set the others again)`);
      else walk((v as Record<string, unknown>)[k], [...path, Array.isArray(v) ? Number(k) : k]);
    }
  };
  walk(input, []);
  const result = stackSchema.safeParse(input);
  const problems = [...typos, ...protoKeys, ...(result.success ? [] : result.error.issues.flatMap((i) => describe(i, input)))];
  if (problems.length || !result.success) throw new ConfigError([...new Set(problems)]);
  return result.data;
}
