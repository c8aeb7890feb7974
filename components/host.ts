/**
 * Host: what every server gets before its roles: the packages all its roles need,
 * installed in one apt run. Other components on the host depend on `ready`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { HostPlan } from "../config/topology.ts";
import { packagesFor } from "../config/packages.ts";
import type { StackConfig } from "../config/schema.ts";
import type { HostFacts, Release } from "../config/releases.ts";
import { cmd, script } from "../lib/shell.ts";
import { RemoteScript } from "../providers/remoteScript.ts";
import type { Connection } from "../providers/ssh.ts";

export interface HostArgs {
  /** The resolved host. */
  readonly plan: HostPlan;
  /** How to reach it. */
  readonly connection: pulumi.Output<Connection>;
  /** The stack config (for role-dependent packages). */
  readonly config: StackConfig;
  /** What the host runs (read from it, or pinned by `hosts[].os`). */
  readonly facts: HostFacts;
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

export class Host extends pulumi.ComponentResource {
  /** The resolved host. */
  public readonly plan: HostPlan;
  /** Its SSH connection. */
  public readonly connection: pulumi.Output<Connection>;
  /** Its Debian release and Python. */
  public readonly facts: HostFacts;
  private readonly readyList: pulumi.Resource[];

  /**
   * Resources later steps on this host must wait for: nftables alone, the firewall
   * (fleet/firewalls.ts adds it), then every other package, so no package's service (epmd,
   * RabbitMQ's 25672, a database) listens before the rules are in place.
   * A copy: Pulumi reads dependsOn arrays later, so a shared array that grows could make
   * a resource depend on itself.
   */
  public get ready(): pulumi.Resource[] {
    return [...this.readyList];
  }

  /** Makes every step created after this call on the host wait for `r` too. */
  public addReady(r: pulumi.Resource): void {
    this.readyList.push(r);
  }

  private readonly args: HostArgs;

  constructor(name: string, args: HostArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:Host", name, {}, opts);
    this.plan = args.plan;
    this.connection = args.connection;
    this.facts = args.facts;
    this.args = args;
    // The firewall's own package first: the table is loaded before anything else installs.
    this.readyList = [this.aptStep(`${name}-nftables`, "install nftables (the firewall, before any other package)", FIREWALL_PACKAGES)];
    this.registerOutputs({});
  }

  /**
   * Every package the host's roles need, in one apt run, after the steps made ready so far
   * (the firewall): called once, before any role's step is built.
   */
  public installPackages(): void {
    const packages = packagesFor(this.plan.roles, this.args.config);
    this.addReady(this.aptStep(`${this.plan.name}-packages`, `install packages (${packages.length})`, packages, this.ready));
  }

  /** One apt step: fails first on a host that runs another release than planned. */
  private aptStep(stepName: string, description: string, packages: readonly string[], after: pulumi.Resource[] = []): RemoteScript {
    return new RemoteScript(stepName, {
      connection: this.connection,
      description,
      create: releaseGuard(this.facts.release) + installScript(packages),
      check: installedCheck(packages),
      // The release is a fact kept in state: a host that now runs another one shows here.
      triggers: { release: this.facts.release.title, packages: packages.join(" ") },
    }, { parent: this, dependsOn: after });
  }
}

/** What the firewall step needs before every other package. */
const FIREWALL_PACKAGES = ["nftables"];
