/**
 * What the program registers under Pulumi's mocks, as the unit tests that run index.ts read
 * it: each resource's type, name and inputs, secrets unwrapped by {@link plain}.
 */

/** The key Pulumi's runtime marks a secret value with, in the inputs the mocks receive. */
export const SECRET_KEY = "4dabf18193072939515e22adb298388d";

/** One registered resource. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, unknown>;
}

/** A value with every secret wrapper taken off (objects and arrays walked). */
export function plain(v: unknown): unknown {
  if (typeof v === "object" && v !== null && SECRET_KEY in v) return plain((v as unknown as { value: unknown }).value);
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === "object" && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
