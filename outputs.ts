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
}
