/**
 * Host: one server, and the only way steps are built on it. It builds what every server
 * gets before its roles (its baseline: nftables, a private object store's CA, the
 * firewall, then the packages all its roles need in one apt run), and its builders
 * (`host.file(...)`, `host.service(...)`, ...) make every other step with the host's
 * connection and waiting for that baseline.
 */
import * as pulumi from "@pulumi/pulumi";
import { HOST_CA_FILE } from "../config/objectStore.ts";
import type { HostPlan } from "../config/topology.ts";
import { packagesFor } from "../config/packages.ts";
import type { StackConfig } from "../config/schema.ts";
import type { HostFacts, Release } from "../config/releases.ts";
import { cmd, script } from "../lib/shell.ts";
import { PostgresDatabase, type PostgresDatabaseArgs } from "../providers/postgresDatabase.ts";
import { ReleaseSwitch, type ReleaseSwitchArgs } from "../providers/releaseSwitch.ts";
import { RemoteFile, type RemoteFileArgs } from "../providers/remoteFile.ts";
import { RemoteProbe, type RemoteProbeArgs } from "../providers/remoteProbe.ts";
import { RemoteScript, type RemoteScriptArgs } from "../providers/remoteScript.ts";
import type { Connection } from "../providers/ssh.ts";
import { SystemdService, type SystemdServiceArgs } from "../providers/systemdService.ts";

export interface HostArgs {
  /** The resolved host. */
  readonly plan: HostPlan;
  /** How to reach it. */
  readonly connection: pulumi.Output<Connection>;
  /** The stack config (for role-dependent packages). */
  readonly config: StackConfig;
  /** What the host runs (read from it, or pinned by `hosts[].os`). */
  readonly facts: HostFacts;
  /**
   * Builds the host's firewall (fleet/hosts.ts: services/nftables) once nftables and the CA
   * file are in place, and returns the step that loads it. Given, not imported: the Host
   * knows no service.
   */
  readonly firewall: (host: Host) => pulumi.Resource;
  /**
   * The PEM bundle of the private object stores' CAs its clients need (fleet/objectStoreCa.ts),
   * written before the firewall. @default none: no CA file
   */
  readonly objectStoreCa?: string;
}

/**
 * Fails, before anything is installed, on a host that does not run the release the
 * program planned for (a pinned `hosts[].os` that is wrong, or a host rebuilt meanwhile).
 */
export function releaseGuard(release: Release): string {
  return script(
    ". /etc/os-release",
    `if [ "\${ID:-}" != debian ] || [ "\${VERSION_ID:-}" != ${cmd(release.versionId)} ]; then`,
    `  echo "this host runs \${PRETTY_NAME:-an unknown system}, but the stack was planned for "${cmd(release.title)}"; set hosts[].os to match (or remove it to read it from the host)" >&2`,
    "  exit 3",
    "fi",
  );
}

/** The apt step: quiet, non-interactive, refreshes package lists only when stale. */
/** Exits 0 when every package is installed (the step's check, and its fast path). */
export function installedCheck(packages: readonly string[]): string {
  return script(...countInstalled(packages), `[ "$have" -eq "\${#want[@]}" ]`);
}

/** Sets `want` (the packages) and `have` (how many of them are installed). */
function countInstalled(packages: readonly string[]): string[] {
  return [
    `want=(${cmd(...packages)})`,
    `have=$(dpkg-query -W -f='\${db:Status-Abbrev}\\n' "\${want[@]}" 2>/dev/null | grep -c '^ii' || true)`,
  ];
}

/**
 * apt waits this long for dpkg's lock instead of failing at once: an apt run of a killed
 * `pulumi up` (our step lock covers that one) or of unattended-upgrades may hold it.
 */
export const APT_LOCK_WAIT = "-o DPkg::Lock::Timeout=900";

export function installScript(packages: readonly string[]): string {
  return script(
    "export DEBIAN_FRONTEND=noninteractive",
    ...countInstalled(packages),
    // Everything installed: nothing to do, and no apt lock taken.
    `if [ "$have" -eq "\${#want[@]}" ]; then exit 0; fi`,
    // Lists older than an hour (or none) are refreshed first.
    `if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages' -mmin -60 -print -quit)" ]; then apt-get update -q ${APT_LOCK_WAIT} >/dev/null; fi`,
    `apt-get install -y -q --no-install-recommends ${APT_LOCK_WAIT} -o Dpkg::Options::=--force-confold "\${want[@]}" >/dev/null`,
  );
}

/**
 * Options of a step built through a Host: Pulumi's own (parent, aliases, protect, ...),
 * passed through, with `dependsOn` added to the host's baseline. Every step waits for the
 * baseline directly, even one that already waits for it through another step: one rule,
 * and a step's order never hangs on what its other dependencies happen to wait for.
 */
export interface StepOptions extends Omit<pulumi.CustomResourceOptions, "dependsOn"> {
  /** What the step waits for besides the host's baseline. @default [] */
  readonly dependsOn?: pulumi.Resource | readonly pulumi.Resource[];
}

/** A provider's args, minus the connection the Host fills in. */
type OnHost<A> = Omit<A, "connection">;

/**
 * One server. Its baseline is built by the constructor, in order, from its args (no step
 * can be added to it later); every other step on it is made with a builder below.
 */
export class Host extends pulumi.ComponentResource {
  /** The resolved host. */
  public readonly plan: HostPlan;
  /**
   * Its SSH connection. Steps on this host get it from the builders; it is read directly
   * only by steps that reach a second host (StaticCopy, a ReleaseSwitch's drain).
   */
  public readonly connection: pulumi.Output<Connection>;
  /** Its Debian release and Python. */
  public readonly facts: HostFacts;
  private readonly baselineSteps: pulumi.Resource[] = [];

  /**
   * What every other step on this host waits for: nftables alone, then the object
   * store's CA bundle (where the host runs its clients), the firewall, then every other
   * package, so no package's service (epmd, RabbitMQ's 25672, a database) listens before
   * the rules are in place. Built in the constructor, complete once it returns. A copy:
   * Pulumi reads dependsOn arrays later, so a shared array that grew could make a
   * resource depend on itself.
   */
  public get baseline(): pulumi.Resource[] {
    return [...this.baselineSteps];
  }

  constructor(name: string, args: HostArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:Host", name, {}, opts);
    this.plan = args.plan;
    this.connection = args.connection;
    this.facts = args.facts;
    // Each step of the baseline waits for those before it. The firewall's own package
    // first: the table is loaded before anything else installs.
    this.baselineSteps.push(this.aptStep(`${name}-nftables`, "install nftables (the firewall, before any other package)", FIREWALL_PACKAGES));
    // The CA file and the firewall are top-level resources (no parent), as they always were.
    if (args.objectStoreCa !== undefined) {
      this.baselineSteps.push(this.file(`${name}-object-store-ca`, { path: HOST_CA_FILE, mode: "0644", content: args.objectStoreCa }));
    }
    this.baselineSteps.push(args.firewall(this));
    // Every package the host's roles need, in one apt run.
    const packages = packagesFor(this.plan.roles, args.config);
    this.baselineSteps.push(this.aptStep(`${name}-packages`, `install packages (${packages.length})`, packages));
    this.registerOutputs({});
  }

  /** A file on this host (RemoteFile). */
  public file(name: string, args: OnHost<RemoteFileArgs>, opts?: StepOptions): RemoteFile {
    return new RemoteFile(name, { ...args, connection: this.connection }, this.options(opts));
  }

  /** A script run on this host (RemoteScript). */
  public script(name: string, args: OnHost<RemoteScriptArgs>, opts?: StepOptions): RemoteScript {
    return new RemoteScript(name, { ...args, connection: this.connection }, this.options(opts));
  }

  /** A fact read on this host (RemoteProbe). */
  public probe<T>(name: string, args: OnHost<RemoteProbeArgs>, opts?: StepOptions): RemoteProbe<T> {
    return new RemoteProbe<T>(name, { ...args, connection: this.connection }, this.options(opts));
  }

  /** A systemd unit kept enabled and running on this host (SystemdService). */
  public service(name: string, args: OnHost<SystemdServiceArgs>, opts?: StepOptions): SystemdService {
    return new SystemdService(name, { ...args, connection: this.connection }, this.options(opts));
  }

  /** An app node on this host moved onto a release (ReleaseSwitch). */
  public releaseSwitch(name: string, args: OnHost<ReleaseSwitchArgs>, opts?: StepOptions): ReleaseSwitch {
    return new ReleaseSwitch(name, { ...args, connection: this.connection }, this.options(opts));
  }

  /** An app's database and login role on this host (PostgresDatabase). */
  public postgresDatabase(name: string, args: OnHost<PostgresDatabaseArgs>, opts?: StepOptions): PostgresDatabase {
    return new PostgresDatabase(name, { ...args, connection: this.connection }, this.options(opts));
  }

  /** Pulumi's options for a step: the baseline first, then `dependsOn`. */
  private options({ dependsOn = [], ...rest }: StepOptions = {}): pulumi.CustomResourceOptions {
    const after: readonly pulumi.Resource[] = Array.isArray(dependsOn) ? dependsOn : [dependsOn as pulumi.Resource];
    return { ...rest, dependsOn: [...this.baseline, ...after] };
  }

  /**
   * One apt step, after the baseline so far: fails first on a host that runs another
   * release than planned.
   */
  private aptStep(stepName: string, description: string, packages: readonly string[]): RemoteScript {
    return this.script(stepName, {
      description,
      create: releaseGuard(this.facts.release) + installScript(packages),
      check: installedCheck(packages),
      // The release is a fact kept in state: a host that now runs another one shows here.
      triggers: { release: this.facts.release.title, packages: packages.join(" ") },
    }, { parent: this });
  }
}

/** What the firewall step needs before every other package. */
const FIREWALL_PACKAGES = ["nftables"];
