/** /etc/memcached.conf: options for Debian's memcached wrapper, one per line. */
import { assertHost, assertInt, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** Options for {@link renderMemcachedConf}. */
export interface MemcachedConfOptions {
  /** Addresses to listen on (memcached has no authentication: private ones only). */
  readonly listenAddresses: readonly string[];
  /** Port. @default 11211 */
  readonly port?: number;
  /** Memory for items, in MB. @default 64 */
  readonly memoryMb?: number;
  /** Simultaneous connections. @default 1024 */
  readonly maxConnections?: number;
}

export function renderMemcachedConf(o: MemcachedConfOptions): string {
  const listen = o.listenAddresses.map((a, i) => assertHost(`memcached listenAddresses[${i}]`, a));
  return renderLines([
    managedHeader("#"),
    "-u memcache",
    `-p ${assertPort("memcached port", withDefault(o.port, 11211))}`,
    `-l ${listen.join(",")}`,
    // No UDP: it is unauthenticated and a known amplification vector.
    "-U 0",
    `-m ${assertInt("memcached memoryMb", withDefault(o.memoryMb, 64), 16, 1_048_576)}`,
    `-c ${assertInt("memcached maxConnections", withDefault(o.maxConnections, 1024), 1, 1_000_000)}`,
    "-P /var/run/memcached/memcached.pid",
  ]);
}

/** The preview warning when several apps share the one memcached (no authentication), else undefined. */
export function sharedMemcachedWarning(apps: readonly string[]): string | undefined {
  if (apps.length < 2) return undefined;
  return `cache.kind is "memcached": apps ${apps.join(", ")} share one memcached, which has no authentication; `
    + "a key prefix keeps their keys apart, but any of them can read and write the others' cache entries "
    + "(which Django unpickles: code of one app can run as another). Use cache.kind \"redis\" (a server and password per app) to isolate them";
}
