/**
 * An app's own Redis server: Debian's redis-server@<instance> template unit reads
 * /etc/redis/redis-<instance>.conf. Pure: paths and the rendered config.
 */
import { isIP } from "node:net";
import { assertName, assertPath, assertPort, managedHeader, renderLines, withDefault } from "../../lib/render.ts";

/** Where one app's Redis server keeps its config, password, data and log. */
export interface RedisInstancePaths {
  /** The systemd unit, an instance of Debian's template: `redis-server@<app>.service`. */
  readonly unit: string;
  /** The config the template's ExecStart names. */
  readonly conf: string;
  /** The `requirepass` line, included last (root-owned, group redis, 0640). */
  readonly secret: string;
  /** Its log; matched by the `redis-server*.log` glob rsyslog follows. */
  readonly log: string;
  /** Its snapshot in Redis's data folder, apart from every other app's. */
  readonly dbFilename: string;
}

/** The paths of `app`'s Redis server. */
export function redisInstancePaths(app: string): RedisInstancePaths {
  const a = assertName("redis instance", app);
  return {
    unit: `redis-server@${a}.service`,
    conf: `/etc/redis/redis-${a}.conf`,
    secret: `/etc/redis/redis-${a}-secret.conf`,
    log: `/var/log/redis/redis-server-${a}.log`,
    dbFilename: `dump-${a}.rdb`,
  };
}

/** Options for {@link renderRedisConf}. */
export interface RedisConfOptions {
  /** The app whose server this is (names its files). */
  readonly instance: string;
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
}

/**
 * Renders the whole config of one app's Redis server (the template unit runs it with
 * `--supervised systemd --daemonize no`). The password is only included, from the
 * secret file, so it never appears in a rendered template or a preview.
 */
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
  const p = redisInstancePaths(o.instance);
  return renderLines([
    managedHeader("#"),
    `bind ${bind.join(" ")}`,
    `port ${port}`,
    // Refuses remote clients whenever no password is set: a missing secret fails closed.
    "protected-mode yes",
    `pidfile /run/redis-${o.instance}/redis-server.pid`,
    `logfile ${assertPath("redis log", p.log)}`,
    // The template unit may write only here and in /var/log/redis.
    "dir /var/lib/redis",
    `dbfilename ${p.dbFilename}`,
    // Last, so its requirepass wins over anything earlier.
    `include ${assertPath("redis secret", p.secret)}`,
  ]);
}
