/** What a SystemdService holds in state: the unit, its wanted state, what reloads or restarts it, how it proves ready. */
import type { Connection } from "./ssh.ts";

export interface ServiceState {
  readonly connection: Connection;
  readonly unit: string;
  readonly enabled: boolean;
  readonly active: boolean;
  /** Named hashes of what needs a restart when it changes (unit file, code release). */
  readonly restartOn?: Record<string, string>;
  /** Named hashes of what needs only a reload (e.g. a config the service re-reads on HUP). */
  readonly reloadOn?: Record<string, string>;
  /** Stop and disable the unit on delete: true for our own units, false for a package's. */
  readonly stopOnDelete?: boolean;
  /** How to tell the unit is ready after a start, restart or reload (see {@link plan}). */
  readonly readyCheck?: ReadyCheck;
  /**
   * The config files the running process loads, each with the stamp of its last write
   * (RemoteFile's `written`): a new stamp reloads or restarts the unit, even when the
   * content is what the program had before (a write that repaired drift). Refresh marks
   * a file the process has not loaded (see {@link notLoaded}). Absent in state written
   * by older code. @default []
   */
  readonly loads?: readonly LoadedFile[];
  readonly schema?: number;
}

/** One config file a service loads. */
export interface LoadedFile {
  /** Absolute path on the host. */
  readonly path: string;
  /**
   * The file's write stamp; refresh replaces it with a {@link NOT_LOADED} note when the
   * running process has not loaded what is on disk. Undefined for a file written by older
   * code and not written since.
   */
  readonly written?: string;
  /** What makes the process load it. */
  readonly then: "reload" | "restart";
  /**
   * A command run by refresh on the host, exiting 0 when what the kernel or daemon holds
   * matches the file (the firewall: the loaded nftables table). @default only times are compared
   */
  readonly check?: string;
}

/** A socket the service answers on once it is ready. */
export interface ReadyCheck {
  /** TCP port. */
  readonly port: number;
  /** Address to connect to; a wildcard (`0.0.0.0`, `::`) means loopback. @default "127.0.0.1" */
  readonly host?: string;
  /**
   * Send a request and wait for an HTTP status line, not just a connection. For gunicorn:
   * its master accepts connections before the workers have imported the app, so only an
   * answer proves the app loads. The request is malformed on purpose (gunicorn answers 400
   * itself and logs one "Invalid request" line), so no app code runs. @default false
   */
  readonly http?: boolean;
}
