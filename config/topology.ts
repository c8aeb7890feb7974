/**
 * Turns validated config (plus an optional inventory) into a topology: which host does
 * what, and how hosts reach each other. Pure. Cross-host rules are checked here, so a
 * fleet that cannot work is refused before anything happens on a server.
 */
import { isIP } from "node:net";
import { ConfigError } from "./load.ts";
import type { HostConfig, Role, StackConfig } from "./schema.ts";
import { HOST_RE, validHostKey } from "./schema.ts";
import { resolveApps, type AppPlan } from "./apps.ts";
import { acmeProblems } from "./acmeRules.ts";

/** Ports the config sets, with their defaults (a clash is reported under the key that can move). */
function configurable(cfg: StackConfig, apps: readonly AppPlan[]): Map<string, number> {
  return new Map([
    ...apps.map((a) => [`${a.key}.port`, a.portSet ? -1 : a.port] as [string, number]),
    ...apps.map((a) => [`${a.key}.redisPort`, a.redisPortSet ? -1 : a.redisPort] as [string, number]),
    ["database.port", cfg.database.engine === "mariadb" ? 3306 : 5432],
    ["logging.port", 10514],
  ]);
}

/** The ports each role listens on, with the config key that sets them (for clash errors). */
function listeners(h: HostPlan, cfg: StackConfig, apps: readonly AppDeployment[]): Array<[number, string]> {
  const out: Array<[number, string]> = [[h.port, "hosts[].port (ssh)"]];
  const r = h.roles;
  if (r.has("loadBalancer")) out.push([80, "nginx (http)"], ...(cfg.loadBalancer.tls !== "none" ? [[443, "nginx (https)"] as [number, string]] : []));
  for (const a of apps) if (a.appHosts.some((x) => x.name === h.name)) out.push([a.app.port, `${a.app.key}.port`]);
  if (r.has("db") || r.has("dbReplica")) out.push([cfg.database.port, "database.port"]);
  // RabbitMQ also listens for its CLI tools and cluster (25672) and runs epmd (4369).
  if (r.has("broker")) {
    if (cfg.broker.kind === "rabbitmq") out.push([5672, "broker (rabbitmq)"], [25672, "broker (rabbitmq distribution)"], [4369, "broker (rabbitmq epmd)"]);
  }
  // Each app's own Redis (broker, cache or both: one server per app on a host).
  if ((r.has("broker") && cfg.broker.kind === "redis") || (r.has("cache") && cfg.cache.kind === "redis")) {
    for (const a of apps) out.push([a.app.redisPort, `${a.app.key}.redisPort`]);
  }
  if (r.has("cache") && cfg.cache.kind === "memcached") out.push([11211, "cache (memcached)"]);
  if (r.has("logging")) out.push([cfg.logging.port, "logging.port"]);
  return out;
}

/** The inventory file format (scripts/testhosts writes one; so can a user). */
export interface Inventory {
  readonly privateKeyPath?: string;
  readonly hosts: ReadonlyArray<{ name: string; address: string; hostKey: string; user?: string; port?: number }>;
}

/** One host, fully resolved. */
export interface HostPlan {
  readonly name: string;
  readonly address: string;
  readonly privateAddress: string;
  readonly port: number;
  readonly user: string;
  readonly hostKey: string;
  readonly roles: ReadonlySet<Role>;
}

/** Where one app runs. */
export interface AppDeployment {
  readonly app: AppPlan;
  /** Its gunicorn nodes, in upstream order. */
  readonly appHosts: readonly HostPlan[];
  /** Hosts running its Celery workers. */
  readonly workers: readonly HostPlan[];
  /** The host running its Celery beat (the fleet's beat host), unless its beat is off. */
  readonly beat: HostPlan | undefined;
  /** Hosts that need its code: its app, worker and beat hosts. */
  readonly codeHosts: readonly HostPlan[];
}

export interface Topology {
  /** The apps and where each runs, in config order. */
  readonly deployments: readonly AppDeployment[];
  readonly hosts: readonly HostPlan[];
  readonly loadBalancer: HostPlan | undefined;
  readonly apps: readonly HostPlan[];
  readonly workers: readonly HostPlan[];
  readonly beat: HostPlan;
  readonly db: HostPlan;
  readonly dbReplicas: readonly HostPlan[];
  readonly broker: HostPlan;
  readonly logging: HostPlan | undefined;
  /** The cache host, when `cache.kind` is not "none". */
  readonly cache: HostPlan | undefined;
  /** Hosts that need some app's code: app, worker and beat hosts (of any app). */
  readonly codeHosts: readonly HostPlan[];
  readonly privateKeyPath: string;
}

/** How `from` reaches `to`: loopback on the same host, else the private address. */
export function addressFrom(from: HostPlan, to: HostPlan): string {
  return from.name === to.name ? "127.0.0.1" : to.privateAddress;
}

function resolveHost(h: HostConfig, i: number, inv: Inventory | undefined, problems: string[]): HostPlan {
  const found = inv?.hosts.find((x) => x.name === h.name);
  const address = h.address ?? found?.address;
  // The inventory's key is cut to its type and key: a newline or a marker such as
  // @cert-authority would add lines of its own to the pinned known_hosts.
  const invKey = found?.hostKey;
  const invKeyBad = !h.hostKey && invKey !== undefined && (/[\r\n\0]/.test(invKey) || /^\s*@/.test(invKey));
  const hostKey = h.hostKey ?? (invKey === undefined || invKeyBad ? undefined : invKey.trim().split(/\s+/).slice(0, 2).join(" "));
  if (invKeyBad) problems.push(`hosts[${i}].hostKey: the inventory file's key for "${h.name}" holds a line break or starts with a marker (@cert-authority, @revoked); a host key is one line, \`TYPE BASE64\`. Fix: copy the host's /etc/ssh/ssh_host_ed25519_key.pub into the inventory file as it is`);
  if (!address) problems.push(`hosts[${i}].address: missing for host "${h.name}". Fix: set it, or add "${h.name}" to the inventory file`);
  else if (!HOST_RE.test(address)) problems.push(`hosts[${i}].address: must be an IP address or a DNS name, got ${JSON.stringify(address)} (from ${h.address ? "the config" : "the inventory file"}). Fix: correct it`);
  if (hostKey && !validHostKey(hostKey)) problems.push(`hosts[${i}].hostKey: ${JSON.stringify(hostKey.slice(0, 40))}... (from ${h.hostKey ? "the config" : "the inventory file"}) is not a valid SSH public key. Fix: use the whole line of /etc/ssh/ssh_host_ed25519_key.pub on the host`);
  const privateAddress = h.privateAddress ?? address;
  if (privateAddress && isIP(privateAddress) !== 4) {
    // Named by the key the user set: a DNS-name address needs a privateAddress beside it.
    const key = h.privateAddress ? "privateAddress" : "address";
    const why = isIP(privateAddress) === 6 ? "IPv6 addresses are not supported yet (URLs and rules are written for IPv4)"
      : "must be an IPv4 address (firewall and database access rules are written with it)";
    problems.push(`hosts[${i}].${key}: ${why}, got ${JSON.stringify(privateAddress)}. Fix: \`npm run pulumi -- config set --path 'hosts[${i}].privateAddress' <ipv4>\`${key === "address" ? " (an address given as a DNS name needs a privateAddress)" : ""}`);
  }
  if (address && isIP(address) === 6) {
    problems.push(`hosts[${i}].address: IPv6 addresses are not supported yet (URLs are written for IPv4), got ${JSON.stringify(address)}. Fix: use the host's IPv4 address or a DNS name`);
  }
  if (!hostKey && !invKeyBad) problems.push(`hosts[${i}].hostKey: missing for host "${h.name}" (host keys are pinned). Fix: set it to the host's \`ssh-ed25519 AAAA...\` key, or add "${h.name}" to the inventory file`);
  return {
    name: h.name,
    address: address ?? "",
    privateAddress: h.privateAddress ?? address ?? "",
    port: h.port ?? found?.port ?? 22,
    user: h.user ?? found?.user ?? "root",
    hostKey: hostKey ?? "",
    roles: new Set(h.roles),
  };
}

function holders(hosts: readonly HostPlan[], role: Role): HostPlan[] {
  return hosts.filter((h) => h.roles.has(role));
}

function names(hs: readonly HostPlan[]): string {
  return hs.length ? ` (${hs.map((h) => h.name).join(", ")})` : "";
}

export function buildTopology(cfg: StackConfig, inventory?: Inventory): Topology {
  const problems: string[] = [];
  const seen = new Set<string>();
  cfg.hosts.forEach((h, i) => {
    if (seen.has(h.name)) problems.push(`hosts[${i}].name: "${h.name}" is used twice. Fix: give every host its own name`);
    seen.add(h.name);
  });
  const hosts = cfg.hosts.map((h, i) => resolveHost(h, i, inventory, problems));
  const deployments = deploymentsOf(cfg, hosts, problems);
  const ports = configurable(cfg, deployments.map((d) => d.app));
  const byAddress = new Map<string, string>();
  hosts.forEach((h, i) => {
    if (!h.address) return;
    const other = byAddress.get(h.address);
    if (other) problems.push(`hosts[${i}].address: ${JSON.stringify(h.address)} is also the address of host "${other}"; one server is one host (give it all the roles). Fix: correct the address, or merge the two hosts`);
    else byAddress.set(h.address, h.name);
    const seen = new Map<number, string>();
    for (const [port, what] of listeners(h, cfg, deployments)) {
      const first = seen.get(port);
      // Named by the key the user changed (a config key not at its default), else the other config key.
      const changed = (k: string | undefined) => k !== undefined && ports.has(k) && port !== ports.get(k);
      const key = changed(what) ? what : changed(first) ? first : ports.has(what) ? what : ports.has(first ?? "") ? first : `hosts[${i}]`;
      if (first) problems.push(`${key}: on host "${h.name}", ${what} would listen on port ${port}, which ${first} uses already. Fix: choose another port, or move one of the roles to another host`);
      else seen.set(port, what);
    }
  });

  const exactlyOne = (role: Role, why: string): HostPlan | undefined => {
    const hs = holders(hosts, role);
    if (hs.length !== 1) problems.push(`hosts: exactly one host must have the role "${role}" (${why}); found ${hs.length}${names(hs)}. Fix: add "${role}" to the roles of exactly one host`);
    return hs[0];
  };
  const db = exactlyOne("db", "the database primary");
  const broker = exactlyOne("broker", "the Celery broker");
  const beat = exactlyOne("beat", "Celery beat must run once in the whole fleet, or periodic tasks run twice or never");
  const apps = holders(hosts, "app");
  if (apps.length === 0) problems.push(`hosts: no host has the role "app". Fix: add "app" to the roles of at least one host`);
  const workers = holders(hosts, "worker");
  if (workers.length === 0) problems.push(`hosts: no host has the role "worker", so Celery tasks would never run. Fix: add "worker" to the roles of at least one host`);
  const lbs = holders(hosts, "loadBalancer");
  if (lbs.length > 1) problems.push(`hosts: at most one host may have the role "loadBalancer"; found ${lbs.length}${names(lbs)}. Fix: keep "loadBalancer" in the roles of one host and remove it from the others`);
  const logs = holders(hosts, "logging");
  if (logs.length > 1) problems.push(`hosts: at most one host may have the role "logging"; found ${logs.length}${names(logs)}. Fix: keep "logging" in the roles of one host and remove it from the others`);
  const replicas = holders(hosts, "dbReplica");
  for (const r of replicas) {
    if (r.roles.has("db")) problems.push(`hosts: "${r.name}" has both "db" and "dbReplica"; a replica must be another host. Fix: remove one of the two roles`);
  }
  const caches = holders(hosts, "cache");
  if (cfg.cache.kind === "none" && caches.length) {
    problems.push(`hosts: ${names(caches).trim()} ha${caches.length > 1 ? "ve" : "s"} the role "cache" but cache.kind is "none". Fix: \`npm run pulumi -- config set --path cache.kind memcached\` (or redis), or remove the role`);
  } else if (cfg.cache.kind !== "none" && caches.length !== 1) {
    problems.push(`hosts: cache.kind is "${cfg.cache.kind}", so exactly one host must have the role "cache"; found ${caches.length}${names(caches)}. Fix: add "cache" to the roles of exactly one host`);
  }
  const lb = cfg.loadBalancer;
  // The shared (wildcard) certificate is needed only by apps without their own.
  if (lb.tls === "provided" && (!lb.certificatePath || !lb.keyPath) && deployments.some((d) => !d.app.tls)) {
    problems.push(`loadBalancer.tls: "provided" needs loadBalancer.certificatePath and loadBalancer.keyPath (or a tls certificate for every app). Fix: set both, or use tls "selfSigned"`);
  }
  if (lb.tls !== "provided" && lb.tls !== "acme") {
    for (const d of deployments.filter((x) => x.app.tls)) problems.push(`${d.app.key}.tls: a certificate is set, but loadBalancer.tls is "${lb.tls}", so it would not be used. Fix: \`npm run pulumi -- config set --path loadBalancer.tls provided\`, or remove ${d.app.key}.tls`);
  }
  problems.push(...acmeProblems(lb, deployments.map((d) => d.app)));
  const media = cfg.media;
  if (media.storage === "local" && apps.length > 1) {
    problems.push(`hosts: ${apps.length} hosts have the role "app"${names(apps)} and media.storage is "local": an upload would land on the node that took the request, and the other nodes and the load balancer could not serve it (and it is lost with that node). Fix: \`npm run pulumi -- config set --path media.storage s3\` with media.target naming a bucket, or run one app host`);
  }
  problems.push(...mediaTargetProblems(cfg));
  const privateKeyPath = cfg.sshPrivateKeyPath ?? inventory?.privateKeyPath;
  if (!privateKeyPath) problems.push(`sshPrivateKeyPath: missing. Fix: \`npm run pulumi -- config set sshPrivateKeyPath ~/.ssh/id_ed25519\`, or use an inventory file that names privateKeyPath`);

  if (problems.length) throw new ConfigError(problems);
  return {
    deployments,
    hosts,
    loadBalancer: lbs[0],
    apps,
    workers,
    beat: beat!,
    db: db!,
    dbReplicas: replicas,
    broker: broker!,
    logging: logs[0],
    cache: cfg.cache.kind === "none" ? undefined : caches[0],
    codeHosts: hosts.filter((h) => h.roles.has("app") || h.roles.has("worker") || h.roles.has("beat")),
    privateKeyPath: privateKeyPath!,
  };
}

/** Where each app runs: the hosts it names (default all) that hold the app, worker and beat roles. */
function deploymentsOf(cfg: StackConfig, hosts: readonly HostPlan[], problems: string[]): AppDeployment[] {
  const apps = resolveApps(cfg, problems);
  const code = (h: HostPlan) => h.roles.has("app") || h.roles.has("worker") || h.roles.has("beat");
  const beat = hosts.find((h) => h.roles.has("beat"));
  return apps.map((app) => {
    let mine = hosts.filter(code);
    if (app.hosts) {
      for (const [j, n] of app.hosts.entries()) {
        const h = hosts.find((x) => x.name === n);
        if (!h) problems.push(`${app.key}.hosts[${j}]: there is no host "${n}". Fix: name one of ${hosts.map((x) => x.name).join(", ")}`);
        else if (!code(h)) problems.push(`${app.key}.hosts[${j}]: host "${n}" has none of the roles app, worker and beat, so it cannot run ${app.name}. Fix: add the role "app" or "worker" to it, or remove it from ${app.key}.hosts`);
      }
      mine = mine.filter((h) => app.hosts!.includes(h.name));
    }
    const appHosts = mine.filter((h) => h.roles.has("app"));
    const workers = mine.filter((h) => h.roles.has("worker"));
    if (app.hosts && hosts.some((h) => h.roles.has("app")) && appHosts.length === 0) {
      problems.push(`${app.key}.hosts: none of them has the role "app", so nothing would serve ${app.name}. Fix: add a host with the role "app" to ${app.key}.hosts`);
    }
    if (app.hosts && hosts.some((h) => h.roles.has("worker")) && workers.length === 0) {
      problems.push(`${app.key}.hosts: none of them has the role "worker", so ${app.name}'s Celery tasks would never run. Fix: add a host with the role "worker" to ${app.key}.hosts`);
    }
    const appBeat = app.celery.beat ? beat : undefined;
    if (app.hosts && appBeat && !app.hosts.includes(appBeat.name)) {
      problems.push(`${app.key}.hosts: the beat host "${appBeat.name}" is not among them, and ${app.name}'s beat runs there. Fix: add "${appBeat.name}" to ${app.key}.hosts, or \`npm run pulumi -- config set --path '${app.key}.celery.beat' false\``);
    }
    const codeHosts = hosts.filter((h) => mine.includes(h) || h === appBeat);
    return { app, appHosts, workers, beat: appBeat, codeHosts };
  });
}

/**
 * Uploads need their own store: every app host holds its keys, and the backup store's keys
 * can delete the database backups, so backup.target is used only when asked for by name.
 */
export function mediaTargetProblems(cfg: StackConfig): string[] {
  const m = cfg.media;
  if (m.shareBackupTarget && m.target) return ["media.shareBackupTarget: true, but media.target is set too; uploads go to one store. Fix: `npm run pulumi -- config rm --path media.shareBackupTarget`, or remove media.target"];
  if (m.shareBackupTarget && !cfg.backup.target) return ["media.shareBackupTarget: true, but there is no backup.target to share. Fix: set media.target (its own bucket and keys), or backup.target"];
  if (m.shareBackupTarget && m.storage !== "s3") return ["media.shareBackupTarget: true, but media.storage is \"local\". Fix: `npm run pulumi -- config set --path media.storage s3`, or `config rm --path media.shareBackupTarget`"];
  if (m.storage === "s3" && !m.target && !m.shareBackupTarget) {
    return [cfg.backup.target
      ? "media.target: missing; uploads are not put in backup.target on their own, because every app host would then hold keys that can delete the database backups. Fix: set media.target with its own bucket and keys (`npm run pulumi -- config set --secret --path media.target.secretAccessKey <key>`, and endpoint, bucket, accessKeyId), or `npm run pulumi -- config set --path media.shareBackupTarget true` to share the backup store knowingly"
      : "media.storage: \"s3\" names no object store. Fix: set media.target (endpoint, bucket, accessKeyId, secretAccessKey; keys with `npm run pulumi -- config set --secret --path media.target.secretAccessKey <key>`)"];
  }
  return [];
}
