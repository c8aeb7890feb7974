/**
 * Reading the files config points at (inventory, SSH key), with errors that name the
 * config key and the fix. Not pure (reads files); kept small.
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { z } from "zod";
import { ConfigError } from "./load.ts";
import type { Inventory } from "./topology.ts";

const inventorySchema = z.object({
  privateKeyPath: z.string().optional(),
  hosts: z.array(z.object({
    name: z.string(), address: z.string(), hostKey: z.string(),
    user: z.string().optional(), port: z.number().optional(),
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
  const parsed = inventorySchema.safeParse(JSON.parse(raw));
  if (!parsed.success) {
    throw new ConfigError([`inventoryFile: ${path} is not an inventory (${parsed.error.issues[0]?.message}). Fix: see README "Inventory"`]);
  }
  return parsed.data;
}

export function readPrivateKey(path: string): string {
  try {
    return readFileSync(expand(path), "utf8");
  } catch {
    throw new ConfigError([`sshPrivateKeyPath: cannot read the SSH private key ${path}. Fix: point it at a readable key file`]);
  }
}
