/**
 * The host firewall: an nftables table of our own (`inet django_fleet`), so rules other
 * tools keep in their own tables are left alone. Input is dropped unless it is loopback,
 * part of an established connection, ICMP, or one of the listed openings.
 */
import { assertPort, managedHeader, renderLines } from "../../lib/render.ts";
import { isIP } from "node:net";

/** Options for {@link renderNftables}. */
export interface NftablesOptions {
  /** Ports to open; `from` empty means from anywhere. */
  readonly openings: ReadonlyArray<{ port: number; from: readonly string[]; why: string }>;
}

function family(address: string): 4 | 6 {
  const f = isIP(address.split("/")[0] ?? "");
  if (f === 0) throw new Error(`firewall source ${JSON.stringify(address)} is not an IP address`);
  return f as 4 | 6;
}

export function renderNftables(o: NftablesOptions): string {
  const rules = o.openings.flatMap((op) => {
    const port = assertPort("firewall port", op.port);
    const why = op.why.replace(/"/g, "'");
    if (op.from.length === 0) return [`    tcp dport ${port} accept comment "${why}"`];
    const v4 = op.from.filter((a) => family(a) === 4);
    const v6 = op.from.filter((a) => family(a) === 6);
    return [
      v4.length ? `    ip saddr { ${v4.join(", ")} } tcp dport ${port} accept comment "${why}"` : "",
      v6.length ? `    ip6 saddr { ${v6.join(", ")} } tcp dport ${port} accept comment "${why}"` : "",
    ].filter(Boolean);
  });
  return renderLines([
    managedHeader("#"),
    // Declared then deleted, so loading this file replaces the table whole, every time.
    "table inet django_fleet",
    "delete table inet django_fleet",
    "table inet django_fleet {",
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    "    iif lo accept",
    "    ct state established,related accept",
    "    ct state invalid drop",
    // By number: names need /etc/protocols, which a minimal Debian lacks.
    '    meta l4proto { 1, 58 } accept comment "icmp, icmpv6"',
    ...rules,
    "  }",
    "}",
  ]);
}
