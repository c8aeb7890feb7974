/** The `hosts` section: the servers, how to reach them, and the roles they hold. */
import { z } from "zod";
import { RELEASE_IDS } from "../releases.ts";
import { hostAddress, name, port, unixUser } from "./primitives.ts";

/** The roles a host can hold. One host may hold all of them (the dev stack). */
export const ROLES = ["loadBalancer", "app", "worker", "beat", "db", "dbReplica", "broker", "cache", "logging"] as const;
export type Role = (typeof ROLES)[number];

/** Whether `key` (`TYPE BASE64`) is a well-formed SSH public key of that type (its blob names the same type). */
export function validHostKey(key: string): boolean {
  const [type, b64] = key.trim().split(/\s+/);
  if (!type || !b64) return false;
  const blob = Buffer.from(b64, "base64");
  if (blob.toString("base64").replace(/=+$/, "") !== b64.replace(/=+$/, "") || blob.length < 4) return false;
  const len = blob.readUInt32BE(0);
  if (blob.subarray(4, 4 + len).toString("latin1") !== type) return false;
  // ed25519: type, then a 32-byte key: 4 + 11 + 4 + 32 bytes.
  return type !== "ssh-ed25519" || blob.length === 51;
}

export const hostSchema = z.strictObject({
  /** Name of the host, unique in the stack; also its key in the inventory file. */
  name,
  /** Address to reach it over SSH. @default the inventory file's address for `name` */
  address: hostAddress.optional(),
  /** Address other hosts use to reach it (a private network). @default `address` */
  privateAddress: hostAddress.optional(),
  /** SSH port. @default the inventory's port, else 22 */
  port: port.optional(),
  /** SSH user: root, or a user with passwordless sudo. @default the inventory's user, else "root" */
  user: unixUser.optional(),
  /** The host's SSH public key (`ssh-ed25519 AAAA...`), pinned. @default the inventory's */
  hostKey: z.string().transform((k) => k.trim()).pipe(z.string().regex(/^(ssh-ed25519|ecdsa-sha2-nistp(?:256|384|521)|ssh-rsa) [A-Za-z0-9+/=]+(?: [^\n]*)?$/, "must be `TYPE BASE64` as in known_hosts"))
    .refine(validHostKey, "is not a valid SSH public key (copy the whole line of /etc/ssh/ssh_host_ed25519_key.pub)")
    // The comment after the key (root@host) is not part of it.
    .transform((k) => k.split(" ").slice(0, 2).join(" ")).optional(),
  /** What this host does. */
  roles: z.array(z.enum(ROLES)).min(1, "needs at least one role"),
  /**
   * The host's Debian release. Set it to preview without reaching the host; `up` still
   * refuses a host that runs another release. @default read from the host's /etc/os-release
   */
  os: z.enum(RELEASE_IDS).optional(),
});

export type HostConfig = z.infer<typeof hostSchema>;
