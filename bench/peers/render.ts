/**
 * What the dev stack makes on its one host (renderPeerStack), or a fleet of one app on a
 * core host and app hosts (renderPeerFleet: the benchmark's part 4), as plain data, so
 * that two other engines (an Ansible playbook, bash scripts over SSH: bench/peers/) can
 * make the same end state and be timed against django-fleet. Pure: config in, data out;
 * nothing here reaches a host, reads a file or runs git.
 *
 * Every config file is rendered by the functions the components call (services/<service>/*.ts,
 * config/*.ts), so the files are byte for byte the dev stack's; test/unit/peersRender.test.ts
 * proves it against the program itself (index.ts under Pulumi mocks). Which host runs what,
 * where each service listens, who migrates, the upstreams and our files' paths are read
 * from the fleet's plan (plan/fleetPlan.ts), whose functions the components call too; the
 * app's folders from services/app/appLayout.ts's `appLayout`, which its layout script is
 * built from. Nothing here copies a value a component computes.
 *
 * What the program reads from the world before it registers anything is an input here:
 * the commit the ref resolves to, the generated secrets, the host's Debian release, how
 * the project installs (read from its repository) and where its settings put static and
 * media files (read on the host by a settings probe). The defaults are the sample app's
 * (examples/app served as fleetdemo.git) on Debian 13, as test/e2e/dev.test.ts deploys it.
 */
import { appRecord, appRecordPath } from "../../config/appRecords.ts";
import type { AppPlan } from "../../config/apps.ts";
import { appEnvironment } from "../../config/environment.ts";
import { openingsFor } from "../../config/firewall.ts";
import { parseConfig } from "../../config/load.ts";
import { packagesFor } from "../../config/packages.ts";
import type { PythonProject } from "../../config/pythonProject.ts";
import { pinnedFacts, type HostFacts, type ReleaseId } from "../../config/releases.ts";
import type { Role, StackConfig } from "../../config/schema.ts";
import { mediaStore, type ObjectStore } from "../../config/objectStore.ts";
import { serviceLogsFor } from "../../config/serviceLogs.ts";
import { addressFrom, buildTopology, type HostPlan, type Topology } from "../../config/topology.ts";
import { gunicornFiles, unitFilePath } from "../../plan/files.ts";
import { planFleet } from "../../plan/fleetPlan.ts";
import { planOrder, wavesOf, type FleetOrder, type Stage } from "../../plan/order.ts";
import { collectstaticScripts, manageCommand } from "../../services/app/appRelease.ts";
import { appLayout } from "../../services/app/appLayout.ts";
import { appHbaRules } from "../../services/postgresql/dbServer.ts";
import { FIREWALL_UNIT } from "../../services/nftables/firewall.ts";
import { installScript as packageInstallScript, releaseGuard } from "../../components/host.ts";
import { appPaths, releaseId, releasePaths } from "../../components/paths.ts";
import { cacheDir } from "../../lib/pythonInstall.ts";
import { servedFolders, type DjangoPaths } from "../../lib/djangoSettings.ts";
import { shortHash } from "../../lib/hash.ts";
import { buildCheck, buildScript } from "../../lib/releaseBuild.ts";
import { healthGateScript } from "../../lib/healthGate.ts";
import { sharedPathOf } from "../../lib/releaseShared.ts";
import { RABBIT_DEFAULT_USER } from "../../lib/rabbitAccount.ts";
import type { ReadyCheck } from "../../providers/systemdService.ops.ts";
import { renderEnvFile } from "../../services/app/envFile.ts";
import { renderGunicornConf } from "../../services/app/gunicornConf.ts";
import { renderNftables } from "../../services/nftables/nftables.ts";
import { renderNginxSite } from "../../services/nginx/nginxSite.ts";
import { renderPgHba, renderPostgresConf } from "../../services/postgresql/postgres.ts";
import { renderLogRetention } from "../../services/rsyslog/logRetention.ts";
import { renderRsyslogClient, renderRsyslogServer } from "../../services/rsyslog/rsyslog.ts";
import { renderGunicornSocket, renderGunicornUnit } from "../../services/app/systemdUnits.ts";
import { renderRabbitmqConf } from "../../services/rabbitmq/rabbitmq.ts";
import { renderCeleryBeatUnit, renderCeleryWorkerUnit } from "../../services/celery/celeryUnits.ts";

/** The sample app's repository as the test hosts reach it (scripts/gitserve). */
export const FLEETDEMO_REPO = "git://198.18.0.1/fleetdemo.git";

/** The roles of the dev stack's one host (test/e2e/dev.test.ts). */
export const DEV_ROLES = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] as const;

/** How examples/app installs: config/pythonProject.ts's answer for its repository (requirements.txt, no hashes). */
export const FLEETDEMO_PROJECT: PythonProject = {
  method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false,
};

/**
 * Where examples/app's settings put static and media files under the env file the dev
 * stack writes (STATIC_ROOT and MEDIA_ROOT come from DJANGO_STATIC_ROOT and
 * DJANGO_MEDIA_ROOT): what the dev stack's settings probe reads on the host.
 */
export function fleetdemoSettings(app = "fleetdemo"): DjangoPaths {
  const p = appPaths(app);
  return { staticRoot: p.static, staticUrl: "/static/", mediaRoot: p.media, mediaUrl: "/media/", staticfiles: true };
}

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

/**
 * The raw stack config of test/e2e/dev.test.ts's `devConfig` (its inventory given
 * separately): one host with every role, the sample app, a RabbitMQ broker. Keys and
 * values as Pulumi hands them to the program. (dev.test.ts keeps its own copy: a test
 * file exports nothing.)
 */
export function devStackConfig(o: { hostName: string; workers?: number; repo?: string }): Record<string, string> {
  return fleetStackConfig({ hosts: [{ name: o.hostName, roles: DEV_ROLES }], workers: o.workers, repo: o.repo });
}

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

/** A file as RemoteFile writes it by default (0644 root:root). */
function file(id: string, path: string, content: string, o: Partial<Pick<RenderedFile, "mode" | "owner" | "group" | "secret">> = {}): RenderedFile {
  return { id, path, content, mode: o.mode ?? "0644", owner: o.owner ?? "root", group: o.group ?? "root", secret: o.secret ?? false };
}

/** The app's layout (services/app/appLayout.ts, made by AppRelease's `layout` script): user, folders, modes. */
function layout(app: string): UserStep {
  const l = appLayout(app);
  return {
    kind: "user", id: "user", user: l.user, group: l.user, home: l.home, shell: l.shell,
    dirs: [...l.rootMade, ...l.userMade],
    // Root's folders get their mode set again even when they exist.
    chmod: l.rootMade.map((f) => ({ path: f.path, mode: f.mode })),
  };
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

/**
 * The raw stack config of a fleet of one app (the dev stack's app and broker) on `hosts`:
 * keys and values as Pulumi hands them to the program (`media` is set as a secret).
 */
export function fleetStackConfig(o: { hosts: ReadonlyArray<{ name: string; roles: readonly Role[] }>; workers?: number; repo?: string; media?: PeerMedia }): Record<string, string> {
  const c = (v: unknown) => JSON.stringify(v);
  return {
    "django-fleet:hosts": c(o.hosts.map((h) => ({ name: h.name, roles: h.roles }))),
    "django-fleet:app": c({
      name: "fleetdemo", repo: o.repo ?? FLEETDEMO_REPO, ref: "main",
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      gunicorn: { workers: o.workers ?? 2 },
    }),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
    ...(o.media ? { "django-fleet:media": c({ storage: "s3", target: o.media.target }) } : {}),
  };
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

/**
 * Renders the dev stack for one host: every file it writes, its packages, and its steps
 * in an order that respects the dev stack's dependencies (components wait for the
 * host's packages and firewall; the database and broker before the app's accounts; the
 * release, env file, collectstatic and migrate before gunicorn; the gate before Celery
 * and the load balancer's reload).
 */
export function renderPeerStack(i: PeerInputs): PeerStack {
  const fleet = renderPeerFleet({ ...i, hosts: [{ ...i.host, roles: DEV_ROLES }] });
  if (fleet.waves.length !== 1) throw new Error("the dev stack on one host is one run");
  return fleet.stacks[0]!;
}

/**
 * Renders a fleet of one app (the dev stack's app and broker) on `hosts`: each host's
 * files, packages and steps, as the program makes them for that host's roles, and the
 * waves the hosts run in. What the peers cover: PostgreSQL, RabbitMQ, no cache, no
 * backups, loadBalancer.tls none, uploads on disk (one app host) or in an object store.
 */
export function renderPeerFleet(i: PeerFleetInputs): PeerFleet {
  const stackName = i.stackName ?? "dev";
  const cfg = parseConfig(fleetStackConfig({ hosts: i.hosts, workers: i.workers, repo: i.repo, media: i.media }));
  const topo: Topology = buildTopology(cfg, {
    privateKeyPath: i.privateKeyPath ?? "/dev/null",
    hosts: i.hosts.map((h) => ({ name: h.name, address: h.address, hostKey: h.hostKey, ...(h.user ? { user: h.user } : {}), ...(h.port ? { port: h.port } : {}) })),
  });
  if (topo.deployments.length !== 1) throw new Error("the peers cover one app");
  if (cfg.database.engine !== "postgresql" || cfg.broker.kind !== "rabbitmq" || topo.cache || topo.dbReplicas.length || cfg.backup.target) {
    throw new Error("the peers cover PostgreSQL without replicas, RabbitMQ, no cache and no backups");
  }
  if (cfg.loadBalancer.tls !== "none") throw new Error("the peers cover loadBalancer.tls none (the dev stack's)");
  const d = topo.deployments[0]!;
  const app: AppPlan = d.app;
  const facts: HostFacts = pinnedFacts(i.release ?? "debian13");
  const project = i.project ?? FLEETDEMO_PROJECT;
  const commit = i.commit;
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new Error(`commit ${JSON.stringify(commit)} is not 40 hex digits`);
  const media = mediaStore(cfg, stackName);
  if (media?.caFile && i.media?.caPem === undefined) throw new Error("media.target.caFile is set: give its content as media.caPem");
  const p = appPaths(app.name);
  const r = releasePaths(app.name, commit);
  const code = { source: r.source, venv: r.venv };
  const s = i.secrets;
  // Who does what (plan/): the same decisions the components take.
  const fleetPlan = planFleet(cfg, topo, new Map(topo.hosts.map((h) => [h.name, facts])));
  const placement = fleetPlan.apps[0]!;
  if (placement.staticCopyTo) {
    throw new Error("the load balancer runs none of the app's code: the peers do not copy its static files there yet (give it the worker or app role)");
  }
  const lb = topo.loadBalancer;
  const migrator = topo.hosts.find((h) => h.name === placement.migrator)!;
  const url = `http://${(lb ?? migrator).address}/`;
  // Where the settings put static and media (AppRelease's probe, mapped as it maps them).
  const probed = i.settings ?? fleetdemoSettings(app.name);
  const mapPath = (v: string | null) => v ? sharedPathOf(app.name, commit, v).path : v;
  const settings: DjangoPaths = { ...probed, staticRoot: mapPath(probed.staticRoot), mediaRoot: mapPath(probed.mediaRoot) };
  if ([probed.staticRoot, probed.mediaRoot].some((v) => v && sharedPathOf(app.name, commit, v).rel)) {
    throw new Error("settings put static or media files inside the checkout: the peers do not make the shared links yet");
  }
  const dbApps = [{ database: app.database.name, user: app.database.user, clients: d.codeHosts }];
  const gunicornUnit = gunicornFiles(app).unit;
  const service = (id: string, unit: string, o: { restartOn?: string[]; reloadOn?: string[]; readyCheck?: ReadyCheck; ownUnitFile?: string }): ServiceStep => ({
    kind: "service", id, unit, restartOn: o.restartOn ?? [], reloadOn: o.reloadOn ?? [],
    ...(o.readyCheck ? { readyCheck: o.readyCheck } : {}), ...(o.ownUnitFile ? { ownUnitFile: o.ownUnitFile } : {}),
  });

  const stages = new Map<string, Map<string, Stage>>();
  const stacks = topo.hosts.map((plan, n): PeerStack => {
    const hp = fleetPlan.hosts[n]!;
    const here = hp.apps.find((a) => a.app === app.name);
    const files: RenderedFile[] = [];
    const add = (f: RenderedFile) => { files.push(f); return f.id; };
    const steps: Step[] = [];
    const stage = new Map<string, Stage>();
    stages.set(plan.name, stage);
    const at = (n: Stage, ...more: Step[]) => { for (const x of more) { steps.push(x); stage.set(x.id, n); } };
    const roles = plan.roles;

    // Host: packages (components/host.ts).
    const packages = packagesFor(roles, cfg);
    at("baseline", {
      kind: "packages", id: "packages", packages,
      release: { versionId: facts.release.versionId, title: facts.release.title },
      script: releaseGuard(facts.release) + packageInstallScript(packages),
    });

    // The object store's CA where its clients run (fleet/objectStoreCa.ts): no backups here, so the media CA alone.
    if (hp.objectStoreCa) {
      // Only the media CA is rendered: a plan asking for another (the backup store's) is not ours to fake.
      if (hp.objectStoreCa.files.some((f) => f !== media?.caFile)) throw new Error(`peers: ${plan.name} needs an object-store CA other than the media store's (${hp.objectStoreCa.files.join(", ")}), which the peers do not render`);
      const ca = add(file("object-store-ca", hp.objectStoreCa.path, i.media!.caPem!.trimEnd() + "\n"));
      at("baseline", { kind: "files", id: "object-store-ca-file", files: [ca] });
    }

    // Firewall (services/nftables/firewall.ts).
    const fw = hp.firewall;
    const fwRules = add(file("firewall-rules", fw.rules, renderNftables({ openings: openingsFor(plan, topo, cfg) }), { mode: "0600" }));
    const fwUnitFile = add(file("firewall-unit", fw.unitFile, FIREWALL_UNIT));
    at("baseline", { kind: "files", id: "firewall-files", files: [fwRules, fwUnitFile] },
      service("firewall", fw.unit, { restartOn: [fwUnitFile], reloadOn: [fwRules], ownUnitFile: fwUnitFile }));

    // Logging (services/rsyslog/loggingServer.ts).
    if (hp.logging) {
      const lg = hp.logging;
      const logFiles: string[] = [];
      let rsServer: string | undefined;
      if (lg.server) {
        rsServer = add(file("rsyslog-server", lg.server.conf,
          renderRsyslogServer({ port: lg.port, logDir: lg.server.logDir, allowedSenders: lg.server.allowedSenders })));
        logFiles.push(rsServer, add(file("log-retention", lg.server.retention,
          renderLogRetention({ logDir: lg.server.logDir, retentionDays: cfg.logging.retentionDays }))));
      }
      const rsForward = add(file("rsyslog-forward", lg.forwardConf,
        renderRsyslogClient({ serverAddress: lg.shipsTo, port: lg.port, files: serviceLogsFor(roles, cfg) })));
      logFiles.push(rsForward);
      at("services", { kind: "files", id: "logging-files", files: logFiles },
        service("rsyslog", "rsyslog.service", { restartOn: [...(rsServer ? [rsServer] : []), rsForward] }));
    }

    const pgFiles = hp.database?.role === "primary" ? hp.database.postgres : undefined;
    if (hp.database && pgFiles) {
      // The app record on the database host (fleet/appRecords.ts).
      const record = add(file("app-record", appRecordPath(app.name), appRecord(app)));
      // PostgreSQL (services/postgresql/dbServer.ts).
      const pgConf = add(file("postgres-conf", pgFiles.conf,
        renderPostgresConf({ listenAddresses: hp.database.listenAddresses, port: hp.database.port }),
        { owner: "postgres", group: "postgres" }));
      const pgHba = add(file("postgres-hba", pgFiles.hba, renderPgHba({ rules: appHbaRules(plan.name, dbApps), replication: [] }),
        { owner: "postgres", group: "postgres", mode: "0640" }));
      at("services", { kind: "files", id: "app-record-file", files: [record] },
        { kind: "files", id: "postgres-files", files: [pgConf, pgHba] },
        service("postgresql", pgFiles.unit, { restartOn: [pgConf], reloadOn: [pgHba], readyCheck: { port: hp.database.port } }));
    }

    if (hp.rabbitmq) {
      // RabbitMQ (services/rabbitmq/broker.ts).
      const rabbitConf = add(file("rabbitmq-conf", hp.rabbitmq.conf,
        renderRabbitmqConf({ listenAddresses: hp.rabbitmq.listenAddresses, port: hp.rabbitmq.port })));
      at("services", { kind: "files", id: "rabbitmq-files", files: [rabbitConf] },
        service("rabbitmq", hp.rabbitmq.unit, { restartOn: [rabbitConf] }));
    }
    if (pgFiles) {
      at("services", { kind: "database", id: "database", database: app.database.name, owner: app.database.user, password: s.dbPassword });
    }
    if (hp.rabbitmq) {
      // The account is named after the app (lib/rabbitAccount.ts: its vhost and user); guest goes.
      at("services", { kind: "brokerAccount", id: "brokerAccount", vhost: app.name, user: app.name, password: s.brokerPassword, deleteUsers: [RABBIT_DEFAULT_USER] });
    }

    // The app's code, env file and static files (components/djangoApp.ts, AppRelease).
    const env = appEnvironment(cfg, {
      secretKey: s.djangoSecretKey, dbPassword: s.dbPassword, brokerPassword: s.brokerPassword,
      dbHost: addressFrom(plan, topo.db), brokerHost: addressFrom(plan, topo.broker),
      cacheHost: undefined, cachePassword: "",
      dbName: app.database.name, dbUser: app.database.user,
      ownAddresses: [plan.address, plan.privateAddress], media,
      loadBalancerAddresses: topo.loadBalancer ? [topo.loadBalancer.address, topo.loadBalancer.privateAddress] : [],
    }, app);
    if (here) {
      const envFile = add(file("env", p.envFile, renderEnvFile(env), { mode: "0600", secret: true }));
      const buildArgs = { app: app.name, repo: app.repo, commit, project, install: app.install };
      const collect = collectstaticScripts(app, settings, code);
      at("build", layout(app.name), {
        kind: "release", id: "release", releaseId: releaseId(commit), user: app.name,
        checkout: { repo: app.repo, commit, mirror: p.repo, dir: r.dir, source: r.source },
        virtualenv: {
          venv: r.venv, method: project.method, requireHashes: project.requireHashes, pipCache: cacheDir({ home: appPaths(app.name).root }, "pip"),
          ...(project.requirementsFile ? { requirementsFile: project.requirementsFile } : {}),
        },
        builtMarker: r.builtMarker,
        current: { link: p.current, target: `releases/${releaseId(commit)}` },
        script: buildScript(buildArgs),
        check: buildCheck(buildArgs),
      }, { kind: "files", id: "env-file", files: [envFile] }, {
        kind: "manage", id: "collectstatic", args: "collectstatic --noinput -v 0", user: app.name, source: r.source, venv: r.venv,
        envFile: p.envFile, rerunOn: ["release", envFile], script: collect.create,
        ...(settings.staticfiles && settings.staticRoot ? { staticRoot: settings.staticRoot } : {}),
      });
      if (here.migrates) {
        at("build", {
          kind: "manage", id: "migrate", args: "migrate --noinput", user: app.name, source: r.source, venv: r.venv,
          envFile: p.envFile, rerunOn: ["release", envFile], script: manageCommand(app, "migrate --noinput", code) + "\n",
        });
      }

      if (here.gunicorn) {
        // gunicorn (services/app/appNode.ts).
        const g = here.gunicorn;
        const bindAddress = g.bindAddress;
        const gConf = add(file("gunicorn-conf", g.conf, renderGunicornConf({
          bindAddress, port: app.port, workers: app.gunicorn.workers,
          timeoutSeconds: app.gunicorn.timeoutSeconds, maxRequests: app.gunicorn.maxRequests,
        })));
        const gUnit = add(file("gunicorn-unit", unitFilePath(g.unit), renderGunicornUnit({
          appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv,
          envFile: p.envFile, wsgiModule: app.wsgiModule, configFile: g.conf,
          stopTimeoutSeconds: g.stopTimeoutSeconds,
        })));
        // The socket gunicorn serves on (Requires= in its unit): started with gunicorn.
        const gSocket = add(file("gunicorn-socket-unit", unitFilePath(g.socketUnit), renderGunicornSocket({
          appName: app.name, bindAddress, port: app.port,
        })));
        const gate = {
          unit: g.unit,
          url: `http://${bindAddress}:${app.port}${app.healthCheck.path}`,
          hostHeader: plan.privateAddress,
          ...(app.healthCheck.status !== undefined ? { status: app.healthCheck.status } : {}),
          timeoutSeconds: app.healthCheck.timeoutSeconds,
        };
        at("switch", { kind: "files", id: "gunicorn-files", files: [gConf, gUnit, gSocket] },
          // The unit's own change restarts it; a new release or env file restarts it through
          // the dev stack's switch; its config is re-read on HUP.
          service("gunicorn", g.unit, {
            restartOn: [gUnit, envFile, "release"], reloadOn: [gConf],
            readyCheck: { port: app.port, host: bindAddress, http: true }, ownUnitFile: gUnit,
          }),
          { kind: "healthGate", id: "healthGate", ...gate, script: healthGateScript(gate), keepReleases: app.keepReleases });
      }

      // Celery (services/celery/celeryWorker.ts).
      const c = here.celery;
      if (c) {
        const base = { appName: app.name, user: app.name, group: app.name, sourceDir: p.source, venvDir: p.venv, envFile: p.envFile, celeryApp: c.celeryApp };
        const wUnit = c.worker ? add(file("celery-worker-unit", unitFilePath(c.workerUnit), renderCeleryWorkerUnit({
          ...base, concurrency: app.celery.concurrency, queues: app.celery.queues, stopTimeoutSeconds: cfg.deploy.celeryStopTimeoutSeconds,
        }))) : undefined;
        const bUnit = c.beat ? add(file("celery-beat-unit", unitFilePath(c.beatUnit), renderCeleryBeatUnit({
          ...base, scheduleFile: c.scheduleFile,
        }))) : undefined;
        at("consumers", { kind: "files", id: "celery-files", files: [wUnit, bUnit].filter((x): x is string => !!x) },
          ...(wUnit ? [service("celery-worker", c.workerUnit, { restartOn: [wUnit, envFile, "release"], ownUnitFile: wUnit })] : []),
          ...(bUnit ? [service("celery-beat", c.beatUnit, { restartOn: [bUnit, envFile, "release"], ownUnitFile: bUnit })] : []));
      }
    }

    const site = hp.nginx?.sites.find((x) => x.app === app.name);
    if (hp.nginx && site) {
      // nginx (services/nginx/loadBalancer.ts).
      const served = servedFolders(settings, app.static);
      const siteFile = add(file("nginx-site", site.path, renderNginxSite({
        appName: app.name,
        upstreams: site.upstreams.map((u) => ({ address: u.address, port: u.port })),
        serverName: app.serverName, tls: undefined, appRoot: appPaths(app.name).root,
        staticRoot: served.static?.root, staticUrl: served.static?.url,
        mediaRoot: cfg.media.storage === "s3" ? undefined : served.media?.root,
        mediaUrl: cfg.media.storage === "s3" ? undefined : served.media?.url,
      })));
      const noDefault = add(file("nginx-default-site", hp.nginx.defaultSite.path, hp.nginx.defaultSite.content));
      at("consumers", { kind: "files", id: "nginx-files", files: [siteFile, noDefault] },
        // The dev stack reloads on the site's change; the emptied default site changes with it
        // on the first run only, and must be read too. Its first run restarts nginx (a new
        // resource restarts its unit): so does a run that made the app's user.
        service("nginx", "nginx.service", { restartOn: ["user"], reloadOn: [siteFile, noDefault] }));
    }

    return {
      host: plan,
      config: cfg,
      app: {
        name: app.name, user: app.name, port: app.port, commit, releaseId: releaseId(commit), repo: app.repo,
        envFile: p.envFile, gunicornUnit,
      },
      packages,
      files,
      env,
      steps,
      url,
      secretValues: secretValuesOf(s, media),
    };
  });

  return {
    config: cfg, topology: topo, stacks, waves: waves(stacks, stages, planOrder(fleetPlan, { signedLogs: false })),
    url, secretValues: secretValuesOf(s, media),
  };
}

function secretValuesOf(s: PeerSecrets, media: ObjectStore | undefined): string[] {
  return [s.djangoSecretKey, s.dbPassword, s.brokerPassword, ...(media ? [media.accessKeyId, media.secretAccessKey] : [])];
}

/**
 * The waves of {@link PeerFleet.waves}: the plan's order (plan/order.ts) as a plain tool
 * runs it, each host's run holding its steps of the stages it runs then; a run with no such
 * step is left out (the peers fold some of the program's steps into others: the release's
 * link switch is part of its build).
 */
function waves(stacks: readonly PeerStack[], stages: ReadonlyMap<string, ReadonlyMap<string, Stage>>, order: FleetOrder): PeerStack[][] {
  for (const st of stacks) {
    const planned = order.stages.get(st.host.name)!;
    const extra = [...new Set(stages.get(st.host.name)!.values())].filter((x) => !planned.includes(x));
    // A step in a stage the plan gives the host no room for would run out of order.
    if (extra.length) throw new Error(`peers: ${st.host.name} has steps in stages ${extra.join(", ")}, which the plan does not give it`);
  }
  // A host's code and what waits for it share one run: the peers restart a unit only for
  // what changed in the run that restarts it (a new release, the app's new user).
  return wavesOf(order, ["build", "switch", "consumers"]).map((wave) => wave.flatMap((run) => {
    const st = stacks.find((x) => x.host.name === run.host)!;
    const of = stages.get(run.host)!;
    const steps = st.steps.filter((x) => run.stages.includes(of.get(x.id)!));
    return steps.length ? [{ ...st, steps }] : [];
  })).filter((w) => w.length > 0);
}

/** A file by id. */
export function fileById(stack: PeerStack, id: string): RenderedFile {
  const f = stack.files.find((x) => x.id === id);
  if (!f) throw new Error(`no rendered file ${id}`);
  return f;
}

/** The env file's hash, as the dev stack keys restarts and migrations by it. */
export function envHash(stack: PeerStack): string {
  return shortHash(stack.files.find((f) => f.path === stack.app.envFile)!.content);
}
