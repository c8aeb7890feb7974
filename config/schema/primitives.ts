/**
 * The value types several config sections share: names, host addresses, Unix users,
 * absolute paths, nginx server names, database identifiers and roles, TCP ports.
 */
import { z } from "zod";
import { reservedDatabaseUser } from "../reservedNames.ts";

/** A host's name in the stack (and in the inventory file). */
export const name = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, "must be lower-case letters, digits and dashes, starting with a letter");

/** An IPv4/IPv6 address or a DNS name: never something ssh or git could read as an option. */
export const HOST_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;
export const hostAddress = z.string().regex(HOST_RE, "must be an IP address or a DNS name");

/** A Unix user name (never read as an option: no leading dash). */
export const unixUser = z.string().regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a Unix user name");

/** An absolute path of plain segments (what nginx and the shell take without quoting surprises). */
export const absolutePath = z.string().regex(/^\/(?:[A-Za-z0-9._@+-]+\/)*[A-Za-z0-9._@+-]*$/, "must be an absolute path of letters, digits and ._@+- segments")
  .refine((p) => !p.split("/").some((seg) => seg === ".." || seg === "."), "must not contain . or .. segments");

/** One nginx server name: `shop.example`, `*.shop.example`, an IPv4 address, or `_`. */
export const SERVER_NAME = /^(?:_|(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$/;

/** A database identifier: a database or role name. */
export const ident = z.string().regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be lower-case letters, digits and underscores");
/** A database login role the app owns: never a superuser's or one django-fleet uses itself. */
export const databaseUser = ident.refine((u) => !reservedDatabaseUser(u), "is a database superuser, a role django-fleet uses itself or a name the database reserves; the app would own its rights, so pick the app's own (e.g. shop)");

/** A TCP port. */
export const port = z.number().int().min(1).max(65535);
