/**
 * What the peers' renderer (render.ts) hands the peers: each file and step of a host, the
 * host's whole stack, and the fleet's stacks with the waves they run in. Types only, and
 * `planOf`, which lets a peer take one stack or a fleet alike.
 */
import type { PythonProject } from "../../config/pythonProject.ts";
import type { StackConfig } from "../../config/schema.ts";
import type { HostPlan, Topology } from "../../config/topology.ts";
import type { ReadyCheck } from "../../providers/systemdService.ops.ts";

/** One file the dev stack writes (a RemoteFile), rendered. */
export interface RenderedFile {
  /** Stable name, used by steps and triggers. */
  readonly id: string;
  readonly path: string;
  /** Octal, 4 digits (`0644`). */
  readonly mode: string;
  readonly owner: string;
  readonly group: string;
  readonly content: string;
  /** Holds a secret (the env file): never shown, kept 0600 on the controller too. */
  readonly secret: boolean;
}

/** A directory the app's layout makes. */
export interface LayoutDir {
  readonly path: string;
  readonly owner: string;
  readonly group: string;
  readonly mode: string;
}

/** Install these Debian packages (one apt run), after checking the host runs the planned release. */
export interface PackagesStep {
  readonly kind: "packages";
  readonly id: "packages";
  readonly packages: readonly string[];
  /** `VERSION_ID` the host must have, and the release's name (the dev stack refuses another). */
  readonly release: { readonly versionId: string; readonly title: string };
  /** The dev stack's script for it (components/host.ts: releaseGuard + installScript). */
  readonly script: string;
}

/** Write these files (in order); a file whose content, mode or owner changed counts as changed under its id. */
export interface FilesStep {
  readonly kind: "files";
  readonly id: string;
  readonly files: readonly string[];
}

/**
 * A systemd unit kept enabled and running: started when it is not, restarted when one of
 * `restartOn` changed in this run, else reloaded when one of `reloadOn` did (ids of files
 * and steps). After acting, proven ready as the dev stack proves it (`readyCheck`: the
 * port answers; else it stays running).
 */
export interface ServiceStep {
  readonly kind: "service";
  readonly id: string;
  readonly unit: string;
  readonly restartOn: readonly string[];
  readonly reloadOn: readonly string[];
  readonly readyCheck?: ReadyCheck;
  /** One of our own unit files is among the triggers: systemd must re-read it (daemon-reload). */
  readonly ownUnitFile?: string;
}

/** The app's system user and directory layout (services/app/appLayout.ts: what the `layout` script makes). */
export interface UserStep {
  readonly kind: "user";
  readonly id: "user";
  readonly user: string;
  readonly group: string;
  readonly home: string;
  readonly shell: string;
  readonly dirs: readonly LayoutDir[];
  /** Directories whose mode is set again even when they exist (`chmod`). */
  readonly chmod: ReadonlyArray<{ readonly path: string; readonly mode: string }>;
}

/** The app's PostgreSQL login role (with its password) and database, CONNECT revoked from PUBLIC. */
export interface DatabaseStep {
  readonly kind: "database";
  readonly id: "database";
  readonly database: string;
  readonly owner: string;
  readonly password: string;
}

/** The app's RabbitMQ vhost and user (all rights on its vhost only); RabbitMQ's guest user removed. */
export interface BrokerAccountStep {
  readonly kind: "brokerAccount";
  readonly id: "brokerAccount";
  readonly vhost: string;
  readonly user: string;
  readonly password: string;
  /** Removed: nothing we run uses it. */
  readonly deleteUsers: readonly string[];
}

/**
 * The release: the checkout of the commit and its virtualenv, built in its own folder
 * (/srv/<app>/releases/<commit12>), a marker written last, and `current` pointed at it.
 * One step, as in the dev stack (one script: a half-built release is built again whole).
 */
export interface ReleaseStep {
  readonly kind: "release";
  readonly id: "release";
  readonly releaseId: string;
  readonly user: string;
  readonly checkout: {
    readonly repo: string;
    readonly commit: string;
    /** The bare mirror each release is cloned from (django-fleet's; a peer may clone straight from `repo`). */
    readonly mirror: string;
    readonly dir: string;
    readonly source: string;
  };
  readonly virtualenv: {
    readonly venv: string;
    readonly method: PythonProject["method"];
    readonly requirementsFile?: string;
    readonly requireHashes: boolean;
    /** Shared by every app on the host (and, in the bench, by every tool). */
    readonly pipCache: string;
  };
  /** Written last: a release without it is unfinished. */
  readonly builtMarker: string;
  /** The link to the running release, and what it points to (relative). */
  readonly current: { readonly link: string; readonly target: string };
  /** The dev stack's build script and its drift check (lib/releaseBuild.ts). */
  readonly script: string;
  readonly check: string;
}

/**
 * A manage.py command as the app user, with the service's environment (the env file), in
 * the release's checkout. `migrate` runs once per release and env, `collectstatic` too.
 */
export interface ManageStep {
  readonly kind: "manage";
  readonly id: "migrate" | "collectstatic";
  /** Arguments after `manage.py`. */
  readonly args: string;
  readonly user: string;
  readonly source: string;
  readonly venv: string;
  readonly envFile: string;
  /** Re-run when one of these changed (ids). */
  readonly rerunOn: readonly string[];
  /** The dev stack's script (services/app/appRelease.ts: manageCommand / collectstaticScripts). */
  readonly script: string;
  /** collectstatic: where the files go (its drift check: the folder is not empty). */
  readonly staticRoot?: string;
}

/** The app node's health gate, after gunicorn (re)started onto a release: what the dev stack's ReleaseSwitch checks. */
export interface HealthGateStep {
  readonly kind: "healthGate";
  readonly id: "healthGate";
  readonly unit: string;
  readonly url: string;
  readonly hostHeader: string;
  readonly status?: number;
  readonly timeoutSeconds: number;
  /** lib/healthGate.ts healthGateScript. */
  readonly script: string;
  /** Releases kept (the switch prunes older ones after the gate). */
  readonly keepReleases: number;
}

export type Step = PackagesStep | FilesStep | ServiceStep | UserStep | DatabaseStep | BrokerAccountStep
  | ReleaseStep | ManageStep | HealthGateStep;

/** The whole dev stack on one host, as data. */
export interface PeerStack {
  readonly host: HostPlan;
  readonly config: StackConfig;
  readonly app: {
    readonly name: string;
    readonly user: string;
    readonly port: number;
    readonly commit: string;
    readonly releaseId: string;
    readonly repo: string;
    readonly envFile: string;
    readonly gunicornUnit: string;
  };
  readonly packages: readonly string[];
  readonly files: readonly RenderedFile[];
  /** The env file's variables (secret): what a peer that does not read the env file passes to manage.py. */
  readonly env: Readonly<Record<string, string>>;
  readonly steps: readonly Step[];
  /** Where the page is served (nginx, port 80). */
  readonly url: string;
  /** Every secret value, for redaction. */
  readonly secretValues: readonly string[];
}

/** The whole fleet, as data: each host's stack, and the order hosts run in. */
export interface PeerFleet {
  readonly config: StackConfig;
  readonly topology: Topology;
  /** One stack per host, in config order. */
  readonly stacks: readonly PeerStack[];
  /**
   * The runs, in order: the plan's waves (plan/order.ts), each host given only its steps
   * of the stages it runs then (a stack with those steps); the hosts of one wave run side
   * by side. The one-host dev stack is one wave of one run.
   */
  readonly waves: ReadonlyArray<readonly PeerStack[]>;
  /** Where the page is served (the load balancer, port 80). */
  readonly url: string;
  /** Every secret value, for redaction. */
  readonly secretValues: readonly string[];
}

/** The hosts and the order they run in: what the peers need of a {@link PeerFleet}. */
export interface PeerPlan {
  readonly stacks: readonly PeerStack[];
  readonly waves: ReadonlyArray<readonly PeerStack[]>;
}

/** One stack as a plan of one host and one run. */
export function planOf(p: PeerStack | PeerPlan): PeerPlan {
  return "waves" in p ? p : { stacks: [p], waves: [[p]] };
}
