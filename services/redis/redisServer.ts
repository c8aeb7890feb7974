/**
 * A password-protected Redis server on a host, bound to the given addresses: used for the
 * Celery broker and for the cache (one server serves both when they share a host).
 */
import * as pulumi from "@pulumi/pulumi";
import { shortHash } from "../../lib/hash.ts";
import { REDIS_PASSWORD_VAR, redisAuthCheck, redisAuthRepair } from "../../lib/brokerAuth.ts";
import { script } from "../../lib/shell.ts";
import { renderRedisConf } from "./redis.ts";
import { RemoteFile } from "../../providers/remoteFile.ts";
import { RemoteScript } from "../../providers/remoteScript.ts";
import { SystemdService } from "../../providers/systemdService.ts";
import type { Host } from "../../components/host.ts";

const SECRET = "/etc/redis/django-fleet-secret.conf";
const CONF = "/etc/redis/django-fleet.conf";

/**
 * Creates the Redis config, password file, service and password check as children of
 * `parent`; returns what clients wait for (the check, which runs after the service).
 */
export function redisServer(name: string, parent: pulumi.Resource, host: Host, bind: readonly string[], password: pulumi.Input<string>): pulumi.Resource {
  const deps = { parent, dependsOn: host.ready };
  const conf = renderRedisConf({ bindAddresses: bind, secretIncludePath: SECRET });
  const secretFile = new RemoteFile(`${name}-secret`, {
    connection: host.connection, path: SECRET, content: pulumi.interpolate`requirepass ${password}\n`,
    owner: "redis", group: "redis", mode: "0600", secret: true,
  }, deps);
  const confFile = new RemoteFile(`${name}-conf`, {
    connection: host.connection, path: CONF, content: conf, owner: "redis", group: "redis", mode: "0640",
  }, deps);
  const include = new RemoteScript(`${name}-include`, {
    connection: host.connection,
    description: "include django-fleet.conf from redis.conf",
    create: script(`grep -qx 'include ${CONF}' /etc/redis/redis.conf || echo 'include ${CONF}' >> /etc/redis/redis.conf`),
    check: script(`grep -qx 'include ${CONF}' /etc/redis/redis.conf`),
    // Removed before the files it names (it depends on them), or Redis would not start again.
    delete: script(`sed -i '\\#^include ${CONF}$#d' /etc/redis/redis.conf`),
  }, { parent, dependsOn: [...host.ready, secretFile, confFile] });
  const service = new SystemdService(`${name}-service`, {
    connection: host.connection, unit: "redis-server.service", stopOnDelete: false,
    restartOn: {
      "django-fleet.conf": shortHash(conf),
      // The hash of a 32-character random password reveals nothing usable.
      "django-fleet-secret.conf": pulumi.unsecret(pulumi.output(password).apply(shortHash)),
    },
    loads: [{ file: confFile, then: "restart" }, { file: secretFile, then: "restart" }],
    readyCheck: { port: 6379 },
  }, { parent, dependsOn: [secretFile, confFile, include] });
  // What Redis runs with is read back: refresh logs in with the password (a CONFIG SET
  // requirepass or ACL SETUSER by hand is drift); the repair restarts Redis onto its files.
  return new RemoteScript(`${name}-auth`, {
    connection: host.connection,
    description: "Redis accepts exactly the password in django-fleet-secret.conf",
    secrets: { [REDIS_PASSWORD_VAR]: password },
    create: redisAuthRepair("redis-server.service", SECRET),
    check: redisAuthCheck(),
  }, { parent, dependsOn: [service] });
}
