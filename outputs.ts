/**
 * The stack's output contract: what other stacks may read with StackReference. Names
 * and shapes here are a public interface; change them only additively.
 */
import type { Output } from "@pulumi/pulumi";

/** One host of the fleet. */
export interface HostOutput {
  /** Address used to reach it over SSH. */
  readonly address: string;
  /** Address other hosts use. */
  readonly privateAddress: string;
  /** Its roles. */
  readonly roles: readonly string[];
}

/** The database endpoint (the password is a separate secret output). */
export interface DatabaseOutput {
  readonly engine: string;
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
}

/** Where backups go and what is kept (never the credentials). */
export interface BackupOutput {
  /** `https://host[:port]` of the object store. */
  readonly endpoint: string;
  readonly bucket: string;
  readonly region: string;
  /** Key prefix in the bucket. */
  readonly prefix: string;
  /** The tool that writes them: `pgbackrest` or `restic`. */
  readonly tool: string;
  /** systemd OnCalendar of the backup. */
  readonly schedule: string;
  /** Newest of each of the last N days, weeks, months. */
  readonly retention: { readonly daily: number; readonly weekly: number; readonly monthly: number };
}

/** One app of the stack (output `apps`, by app name). */
export interface AppOutput {
  /** The URL that serves it (through the load balancer when there is one). */
  readonly url: string;
  /** Private addresses of its app nodes, in upstream order. */
  readonly hosts: readonly string[];
  /** The port its gunicorn listens on, on each of them. */
  readonly port: number;
  /** Its database and login role on the fleet's database server (`database` has the host and port). */
  readonly database: { readonly name: string; readonly user: string };
  /** (secret) Its role's password. */
  readonly databasePassword: Output<string>;
  /** (secret) Its Celery broker URL with credentials. */
  readonly brokerUrl: Output<string>;
  /** Its RabbitMQ vhost, or null with a Redis broker. */
  readonly brokerVhost: string | null;
  /** Its Redis database number, or null with RabbitMQ. */
  readonly brokerRedisDb: number | null;
  /** The commit of it that is deployed. */
  readonly deployedCommit: string;
}

/**
 * Every stack output, by export name. With several apps, the one-app outputs (`siteUrl`,
 * `database`, `databasePassword`, `brokerUrl`, `deployedCommit`, `appHosts`) describe the
 * first app in the config, and `apps` holds every app.
 */
export interface FleetOutputs {
  /** `siteUrl`: the URL that serves the (first) app (through the load balancer when there is one). */
  readonly siteUrl: string;
  /** `apps`: every app by name: URL, database, broker place, deployed commit; passwords secret. */
  readonly apps: Readonly<Record<string, AppOutput>>;
  /** `hostAddresses`: every host by name. */
  readonly hosts: Readonly<Record<string, HostOutput>>;
  /** `appHosts`: private addresses of the app nodes, in upstream order. */
  readonly appHosts: readonly string[];
  /** `database`: the database endpoint. */
  readonly database: DatabaseOutput;
  /** `databaseReplicas`: addresses of the streaming replicas (read-only), may be empty. */
  readonly databaseReplicas: readonly string[];
  /** `databasePassword` (secret): the app role's password. */
  readonly databasePassword: Output<string>;
  /** `brokerUrl` (secret): the Celery broker URL with credentials. */
  readonly brokerUrl: Output<string>;
  /** `loggingEndpoint`: `address:port` of the central log server, or null. */
  readonly loggingEndpoint: string | null;
  /** `cacheUrl` (secret): the shared cache's URL (with the Redis password), or null. */
  readonly cacheUrl: Output<string> | null;
  /** `deployedCommit`: the commit of the app that is deployed. */
  readonly deployedCommit: string;
  /** `backup`: the backup target, schedule and retention, or null without backups. */
  readonly backup: BackupOutput | null;
  /** `backupEncryptionKey` (secret): the repository's encryption key; without it no backup can be read. Null without backups. */
  readonly backupEncryptionKey: Output<string> | null;
  /** `lastRestoreDrill`: the restore drill's last result as read by the last refresh (`ok`, `finishedAt`, `backupAgeSeconds`, `tables`), or null. */
  readonly lastRestoreDrill: Output<unknown> | null;
}
