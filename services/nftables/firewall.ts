/**
 * Firewall: the host's nftables table, loaded by a small systemd unit of ours so it is
 * applied again at boot, and replaced whole when the openings change.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Opening } from "../../config/firewall.ts";
import { shortHash } from "../../lib/hash.ts";
import { renderNftables } from "./nftables.ts";
import type { SystemdService } from "../../providers/systemdService.ts";
import type { Host } from "../../components/host.ts";
import { FIREWALL_FILES } from "../../plan/files.ts";

const { rules: RULES, unit: UNIT } = FIREWALL_FILES;

/** The oneshot unit: load the table at start, remove it at stop. */
export const FIREWALL_UNIT = `# Managed by django-fleet (pulumi). Manual edits are reverted on the next \`pulumi up\`.
[Unit]
Description=django-fleet host firewall (nftables table inet django_fleet)
Wants=network-pre.target
Before=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f ${RULES}
ExecReload=/usr/sbin/nft -f ${RULES}
ExecStop=-/usr/sbin/nft delete table inet django_fleet

[Install]
WantedBy=multi-user.target
`;

/**
 * Refresh's check that the kernel holds the table the rules file makes (the unit's
 * "active" says nothing once someone ran `nft flush ruleset`): the file is loaded into a
 * throwaway network namespace and both listings are compared. Where no namespace can be
 * made, the table must at least exist.
 */
export const LOADED_TABLE_CHECK = [
  "have=$(nft list table inet django_fleet) || exit 1",
  `want=$(unshare --net -- bash -c 'nft -f "$0" && nft list table inet django_fleet' ${RULES} 2>/dev/null) || exit 0`,
  '[ "$have" = "$want" ]',
].join("; ");

export interface FirewallArgs {
  /** The host. */
  readonly host: Host;
  /** What it opens. */
  readonly openings: readonly Opening[];
}

export class Firewall extends pulumi.ComponentResource {
  /** The loaded table: what traffic to this host must wait for. */
  public readonly service: SystemdService;

  constructor(name: string, args: FirewallArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super("django-fleet:fleet:Firewall", name, {}, opts);
    const h = args.host;
    const rules = renderNftables({ openings: args.openings });
    // `destroy` leaves the table loaded, its file and its unit: the data services and the
    // packages it protects stay on the host (on purpose), so their ports stay closed.
    const kept = { parent: this, retainOnDelete: true };
    // Built while the Host builds its baseline: these wait for what it holds so far
    // (nftables, the object store's CA).
    const rulesFile = h.file(`${name}-rules`, { path: RULES, content: rules, mode: "0600" }, kept);
    const unitFile = h.file(`${name}-unit`, { path: `/etc/systemd/system/${UNIT}`, content: FIREWALL_UNIT }, kept);
    this.service = h.service(`${name}-service`, {
      unit: UNIT,
      restartOn: { [UNIT]: shortHash(FIREWALL_UNIT) },
      reloadOn: { "firewall.nft": shortHash(rules) },
      loads: [{ file: unitFile, then: "restart" }, { file: rulesFile, then: "reload", check: LOADED_TABLE_CHECK }],
    }, { ...kept, dependsOn: [rulesFile, unitFile] });
    this.registerOutputs({});
  }
}
