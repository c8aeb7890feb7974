/**
 * Which log FILES a host's services write on Debian, so rsyslog can read them (imfile)
 * and ship them to the logging host with the journal. Pure, like packages.ts: each
 * service's descriptor lists its files (services/<service>/descriptor.ts); what logs to
 * the journal (gunicorn, Celery, MariaDB, memcached) is shipped already and listed nowhere.
 */
import type { Role, StackConfig } from "./schema.ts";
import { DATABASE_ENGINES } from "../services/databases.ts";
import type { ServiceDescriptor, ServiceLog } from "../services/descriptor.ts";
import { SERVICES } from "../services/index.ts";

export type { ServiceLog };

/**
 * The order logs are listed in: the database's first, then the firewall's order. It is
 * the order of the rendered forwarding config, which predates the descriptors; another
 * would change that file, and restart rsyslog, on every host.
 */
const LOG_ORDER: readonly ServiceDescriptor[] = [...DATABASE_ENGINES, ...SERVICES.filter((s) => !DATABASE_ENGINES.some((e) => e === s))];

/**
 * The service log files a host with these roles writes, in a fixed order (so a rendered
 * config, and the restart it triggers, only change when the set does). A host running no
 * file-logging service gets `[]`. Redis is listed once even when it is both the broker
 * and the cache (one server serves both).
 */
export function serviceLogsFor(roles: ReadonlySet<Role>, cfg: Pick<StackConfig, "database" | "broker" | "cache">): ServiceLog[] {
  return LOG_ORDER.filter((s) => s.runsOn(roles, cfg)).flatMap((s) => s.logs);
}
