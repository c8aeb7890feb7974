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

/** Every stack output, by export name. */
export interface FleetOutputs {
  /** `siteUrl`: the URL that serves the app (through the load balancer when there is one). */
  readonly siteUrl: string;
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
