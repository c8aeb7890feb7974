/**
 * Every service's descriptor. The order is the firewall's: openings are listed in it, and
 * a change of order would rewrite (and reload) every host's rules.
 */
import { app } from "./app/descriptor.ts";
import { celery } from "./celery/descriptor.ts";
import { certbot } from "./certbot/descriptor.ts";
import type { ServiceDescriptor } from "./descriptor.ts";
import { mariadb } from "./mariadb/descriptor.ts";
import { memcached } from "./memcached/descriptor.ts";
import { nftables } from "./nftables/descriptor.ts";
import { nginx } from "./nginx/descriptor.ts";
import { pgbackrest } from "./pgbackrest/descriptor.ts";
import { postgresql } from "./postgresql/descriptor.ts";
import { rabbitmq } from "./rabbitmq/descriptor.ts";
import { redis } from "./redis/descriptor.ts";
import { restic } from "./restic/descriptor.ts";
import { rsyslog } from "./rsyslog/descriptor.ts";

export const SERVICES: readonly ServiceDescriptor[] = [
  nginx, certbot, app, celery, postgresql, mariadb, pgbackrest, restic, rabbitmq, redis, memcached, rsyslog, nftables,
];

/** The descriptors of the services that run on a host with these roles. */
export function servicesOn(roles: Parameters<ServiceDescriptor["runsOn"]>[0], cfg: Parameters<ServiceDescriptor["runsOn"]>[1]): ServiceDescriptor[] {
  return SERVICES.filter((s) => s.runsOn(roles, cfg));
}
