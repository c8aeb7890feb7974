/**
 * Where the fleet's own files and units go on a host: paths and names that the components
 * write and the benchmark's peers write too, named once here. Pure constants and small
 * functions of an app's name or a host's PostgreSQL version; no config is read.
 */
import type { AppPlan } from "../config/apps.ts";
import { appPaths } from "../components/paths.ts";

/** A unit file of ours: `/etc/systemd/system/<unit>`. */
export function unitFilePath(unit: string): string {
  return `/etc/systemd/system/${unit}`;
}

/** The host firewall (services/nftables): its rules file and the oneshot unit that loads it. */
export const FIREWALL_FILES = {
  /** The nftables table, loaded whole (0600: it lists the fleet's addresses). */
  rules: "/etc/django-fleet/firewall.nft",
  /** The unit that loads it at boot and on reload. */
  unit: "django-fleet-firewall.service",
} as const;

/** Central logging (services/rsyslog): the files on the logging host and on every host. */
export const LOGGING_FILES = {
  /** Where the logging host files what it receives: `<logDir>/<host>/<program>.log`. */
  logDir: "/var/log/fleet",
  /** The receiving side's config, on the logging host only. */
  serverConf: "/etc/rsyslog.d/10-django-fleet-server.conf",
  /** Rotation of the received logs, on the logging host only. */
  retention: "/etc/logrotate.d/django-fleet",
  /** The forwarding config, on every host (the logging host too). */
  forwardConf: "/etc/rsyslog.d/90-django-fleet-forward.conf",
} as const;

/** nginx's files on the load balancer (services/nginx). */
export const NGINX_FILES = {
  /** Debian's default site, taken over with {@link NGINX_FILES.defaultSiteContent} (not unlinked: delete puts Debian's back). */
  defaultSite: "/etc/nginx/sites-available/default",
  /** What Debian's default site holds while ours serve. */
  defaultSiteContent: "# Managed by django-fleet (pulumi): Debian's default site is disabled while the app's site serves.\n",
  /** The server that answers names no app serves (with two apps or more). */
  defaultServer: "/etc/nginx/sites-enabled/00-default-server.conf",
} as const;

/** One app's virtual host on the load balancer. */
export function nginxSitePath(app: string): string {
  return `/etc/nginx/sites-enabled/${app}.conf`;
}

/** One app's gunicorn on an app node (services/app/appNode.ts). */
export interface GunicornFiles {
  /** Its config, in root's `/etc/<app>` beside the env file; re-read on HUP. */
  readonly conf: string;
  /** Its service unit's name. */
  readonly unit: string;
  /**
   * How long systemd waits for a graceful stop: gunicorn's own timeout plus 5 seconds,
   * so a stop lets the slowest allowed request finish.
   */
  readonly stopTimeoutSeconds: number;
}

export function gunicornFiles(app: Pick<AppPlan, "name" | "gunicorn">): GunicornFiles {
  return {
    conf: `/etc/${app.name}/gunicorn.conf.py`,
    unit: `${app.name}-gunicorn.service`,
    stopTimeoutSeconds: app.gunicorn.timeoutSeconds + 5,
  };
}

/** One app's Celery units on a worker or beat host (services/celery). */
export interface CeleryFiles {
  /** The workers' unit. */
  readonly workerUnit: string;
  /** The beat's unit. */
  readonly beatUnit: string;
  /** The beat's schedule, in the app's state folder (outside every release). */
  readonly scheduleFile: string;
  /** The Celery app `-A` names: `app.celeryApp`, else the settings module's top package. */
  readonly celeryApp: string;
}

export function celeryFiles(app: Pick<AppPlan, "name" | "celeryApp" | "settingsModule">): CeleryFiles {
  return {
    workerUnit: `${app.name}-celery-worker.service`,
    beatUnit: `${app.name}-celery-beat.service`,
    scheduleFile: `${appPaths(app.name).state}/celerybeat-schedule`,
    celeryApp: app.celeryApp ?? app.settingsModule.split(".")[0]!,
  };
}

/** RabbitMQ's config file (services/rabbitmq), and the port it listens on. */
export const RABBITMQ_FILES = {
  conf: "/etc/rabbitmq/rabbitmq.conf",
  unit: "rabbitmq-server.service",
  /** AMQP. */
  port: 5672,
} as const;

/** MariaDB's settings file (services/mariadb), on the primary and the replicas. */
export const MARIADB_CONF = "/etc/mysql/mariadb.conf.d/60-django-fleet.cnf";

/** The files of the PostgreSQL cluster Debian's package made (`main`), for its major version. */
export interface PostgresFiles {
  /** `/etc/postgresql/<major>/main`. */
  readonly dir: string;
  /** Our settings, in the cluster's conf.d. */
  readonly conf: string;
  /** The cluster's pg_hba.conf, written whole. */
  readonly hba: string;
  /** The cluster's unit. */
  readonly unit: string;
}

export function postgresFiles(major: string): PostgresFiles {
  const dir = `/etc/postgresql/${major}/main`;
  return { dir, conf: `${dir}/conf.d/django-fleet.conf`, hba: `${dir}/pg_hba.conf`, unit: `postgresql@${major}-main.service` };
}
