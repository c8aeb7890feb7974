/**
 * Redis for the apps: one server per app (Debian's redis-server@<app> template unit), each
 * with its own port, password, snapshot and log, so an app's credentials reach only its
 * own queues and cache. Debian's default redis-server.service (no password, shared by
 * every local user) is stopped and masked on every host that runs the apps' servers.
 */
import * as pulumi from "@pulumi/pulumi";
import { shortHash } from "../../lib/hash.ts";
import { REDIS_PASSWORD_VAR, redisAuthCheck, redisAuthRepair } from "../../lib/brokerAuth.ts";
import { script } from "../../lib/shell.ts";
import { redisInstancePaths, renderRedisConf } from "./redis.ts";
import type { Host, StepOptions } from "../../components/host.ts";

const DEFAULT_UNIT = "redis-server.service";

/**
 * Stops and masks the package's own server on `host` (on a stack made before per-app
 * servers, the shared one: its queued messages and cache entries are dropped). Apps'
 * servers wait for it, so none races it for port 6379.
 */
export function redisDefaultOff(name: string, host: Host, opts: StepOptions = {}): pulumi.Resource {
  return host.script(name, {
    description: "Debian's shared redis-server.service stopped and masked (each app has its own server)",
    create: script(`systemctl mask --now ${DEFAULT_UNIT}`),
    check: script(`[ "$(systemctl is-enabled ${DEFAULT_UNIT} 2>/dev/null || true)" = masked ]`, `! systemctl is-active --quiet ${DEFAULT_UNIT}`),
    // Left stopped: the package's server came with no password.
    delete: script(`systemctl unmask ${DEFAULT_UNIT}`),
  }, opts);
}

/** What {@link appRedis} makes. */
export interface AppRedisArgs {
  /** The app (names the unit and files). */
  readonly app: string;
  /** Its port. */
  readonly port: number;
  /** Addresses it listens on. */
  readonly bind: readonly string[];
  /** Its password (secret). */
  readonly password: pulumi.Input<string>;
  /** What runs first: the default server stopped. */
  readonly after: readonly pulumi.Resource[];
}

/**
 * Creates one app's Redis config, password file, service and password check as children
 * of `parent`; returns what clients wait for (the check, which runs after the service).
 */
export function appRedis(name: string, parent: pulumi.Resource, host: Host, a: AppRedisArgs): pulumi.Resource {
  const p = redisInstancePaths(a.app);
  const deps = { parent, dependsOn: a.after };
  const conf = renderRedisConf({ instance: a.app, bindAddresses: a.bind, port: a.port });
  // Root's files, readable by the redis group (the server), by no app's user.
  const secretFile = host.file(`${name}-secret`, {
    path: p.secret, content: pulumi.interpolate`requirepass ${a.password}\n`,
    owner: "root", group: "redis", mode: "0640", secret: true,
  }, deps);
  const confFile = host.file(`${name}-conf`, {
    path: p.conf, content: conf, owner: "root", group: "redis", mode: "0640",
  }, deps);
  const service = host.service(`${name}-service`, {
    unit: p.unit,
    restartOn: {
      [`redis-${a.app}.conf`]: shortHash(conf),
      // The hash of a 32-character random password reveals nothing usable.
      [`redis-${a.app}-secret.conf`]: pulumi.unsecret(pulumi.output(a.password).apply(shortHash)),
    },
    loads: [{ file: confFile, then: "restart" }, { file: secretFile, then: "restart" }],
    readyCheck: { port: a.port },
  }, { parent, dependsOn: [secretFile, confFile, ...a.after] });
  // What Redis runs with is read back: refresh logs in with the password (a CONFIG SET
  // requirepass or ACL SETUSER by hand is drift); the repair restarts Redis onto its files.
  return host.script(`${name}-auth`, {
    description: `${a.app}'s Redis accepts exactly the password in ${p.secret}`,
    secrets: { [REDIS_PASSWORD_VAR]: a.password },
    create: redisAuthRepair(p.unit, p.secret, a.port),
    check: redisAuthCheck(a.port),
  }, { parent, dependsOn: [service] });
}
