/**
 * Reading the files config points at (inventory, SSH key), with errors that name the
 * config key and the fix. Not pure (reads files); kept small.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { z } from "zod";
import { ConfigError } from "./load.ts";
import { unixUser } from "./schema.ts";
import type { Inventory } from "./topology.ts";

const inventorySchema = z.object({
  privateKeyPath: z.string().min(1).optional(),
  hosts: z.array(z.object({
    name: z.string(), address: z.string(), hostKey: z.string(),
    // Checked as strictly as the config's own keys: these reach ssh too.
    user: unixUser.optional(),
    port: z.number().int().min(1).max(65535).optional(),
  })),
});

function expand(path: string): string {
  return path.startsWith("~/") ? homedir() + path.slice(1) : path;
}

export function readInventory(path: string): Inventory {
  let raw: string;
  try {
    raw = readFileSync(expand(path), "utf8");
  } catch {
    throw new ConfigError([`inventoryFile: cannot read ${path}. Fix: correct the path (for local test servers, run \`scripts/testhosts up\` first)`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new ConfigError([`inventoryFile: ${path} is not JSON (${e instanceof Error ? e.message : String(e)}). Fix: see README "Using your own servers" for the format, or point inventoryFile at the file scripts/testhosts writes`]);
  }
  const parsed = inventorySchema.safeParse(json);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => {
      const where = i.path.map((k) => (typeof k === "number" ? `[${k}]` : `.${String(k)}`)).join("").replace(/^\./, "");
      return `inventoryFile: ${path}: ${where || "(file)"}: ${i.message}. Fix: see README "Using your own servers" for the format`;
    }));
  }
  return parsed.data;
}

export function readPrivateKey(path: string): string {
  let key: string;
  try {
    key = readFileSync(expand(path), "utf8");
  } catch {
    throw new ConfigError([`sshPrivateKeyPath: cannot read the SSH private key ${path}. Fix: point it at a readable key file`]);
  }
  // A public key (the .pub beside it) fails much later as "ssh could not connect".
  if (!/^-----BEGIN [A-Z ]*PRIVATE KEY-----/m.test(key)) {
    throw new ConfigError([`sshPrivateKeyPath: ${path} is not a private key (no "-----BEGIN ... PRIVATE KEY-----" line${/^(ssh-|ecdsa-)/.test(key) ? "; it is a public key" : ""}). Fix: point it at the private half, e.g. ~/.ssh/id_ed25519 rather than ~/.ssh/id_ed25519.pub`]);
  }
  return key;
}
