import { isIP } from "node:net";
import { assertPath, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** Options for {@link renderRedisConf}. */
export interface RedisConfOptions {
  /**
   * Addresses Redis listens on, e.g. `["127.0.0.1", "10.0.0.5"]`. A `-` prefix (`-::1`)
   * makes an address optional, as Redis 7 allows. At least one: without `bind`, Redis
   * listens on every interface.
   */
  readonly bindAddresses: readonly string[];
  /**
   * TCP port.
   * @default 6379
   */
  readonly port?: number;
  /**
   * File holding `requirepass` (written with mode 0640 by another resource); this snippet
   * only includes it, so the password never appears in a rendered template.
   * @default "/etc/redis/fleet-secret.conf"
   */
  readonly secretIncludePath?: string;
}

/** Renders the fleet snippet included from redis.conf. */
export function renderRedisConf(o: RedisConfOptions): string {
  if (o.bindAddresses.length === 0) {
    throw new Error("redis bindAddresses is empty; without bind Redis listens on every interface");
  }
  const bind = o.bindAddresses.map((a, i) => {
    if (isIP(a.replace(/^-/, "")) === 0) {
      throw new Error(`redis bindAddresses[${i}] ${JSON.stringify(a)} is invalid: expected an IP address`);
    }
    return a;
  });
  const port = assertPort("redis port", withDefault(o.port, 6379));
  const secret = assertPath("redis secretIncludePath", withDefault(o.secretIncludePath, "/etc/redis/fleet-secret.conf"));
  return renderLines([
    managedHeader("#"),
    `bind ${bind.join(" ")}`,
    `port ${port}`,
    // Refuses remote clients whenever no password is set: a missing secret fails closed.
    "protected-mode yes",
    // Last, so its requirepass wins over anything earlier.
    `include ${secret}`,
  ]);
}
