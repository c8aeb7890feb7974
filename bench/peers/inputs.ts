/**
 * What the peers' renderer (render.ts) is given: the hosts, the commit, the secrets, and
 * what the program reads from the world before it registers anything (the host's Debian
 * release, how the project installs, where its settings put static and media files).
 */
import type { PythonProject } from "../../config/pythonProject.ts";
import type { ReleaseId } from "../../config/releases.ts";
import type { Role } from "../../config/schema.ts";
import type { DjangoPaths } from "../../lib/djangoSettings.ts";

/** The generated secrets (django-fleet's RandomSecret resources): inputs here. */
export interface PeerSecrets {
  /** DJANGO_SECRET_KEY (50 characters in the dev stack). */
  readonly djangoSecretKey: string;
  /** The database role's password (32). */
  readonly dbPassword: string;
  /** The RabbitMQ user's password (32). */
  readonly brokerPassword: string;
}

/** The one host, as the inventory file describes it. */
export interface PeerHost {
  readonly name: string;
  readonly address: string;
  /** `ssh-ed25519 AAAA...`, pinned as django-fleet pins it. */
  readonly hostKey: string;
  /** @default 22 */
  readonly port?: number;
  /** @default "root" */
  readonly user?: string;
}

export interface PeerInputs {
  readonly host: PeerHost;
  /** The commit `main` resolves to (40 hex digits). */
  readonly commit: string;
  readonly secrets: PeerSecrets;
  /** gunicorn workers (the bench's one-line change is 2 -> 3). @default 2 */
  readonly workers?: number;
  /** @default FLEETDEMO_REPO */
  readonly repo?: string;
  /** The host's Debian release (django-fleet reads it from the host). @default "debian13" */
  readonly release?: ReleaseId;
  /** @default FLEETDEMO_PROJECT */
  readonly project?: PythonProject;
  /** What the settings probe reads. @default fleetdemoSettings() */
  readonly settings?: DjangoPaths;
  /** The SSH key's path (only recorded: the topology needs one). @default "/dev/null" */
  readonly privateKeyPath?: string;
}

/** A host of a fleet the peers make: its inventory entry and its roles. */
export interface FleetHost extends PeerHost {
  readonly roles: readonly Role[];
}

/** Uploads in an object store (config `media`, storage "s3"), as the stack's config gives it. */
export interface PeerMedia {
  /** `media.target` as in the stack config (endpoint, bucket, keys, caFile...). */
  readonly target: Readonly<Record<string, unknown>>;
  /** The content of `target.caFile` (the program reads it on this machine; the renderer is pure). */
  readonly caPem?: string;
}

/** A fleet of hosts with one app, as the peers make it (part 4 of the benchmark: a core host and N app hosts). */
export interface PeerFleetInputs extends Omit<PeerInputs, "host"> {
  /** In config order. */
  readonly hosts: readonly FleetHost[];
  /** @default none: uploads on the app host's disk (one app host only) */
  readonly media?: PeerMedia;
  /** The stack's name: the object store's key prefix is `django-fleet/<stack>`. @default "dev" */
  readonly stackName?: string;
}
