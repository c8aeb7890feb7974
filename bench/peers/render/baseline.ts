/**
 * A host's baseline, what every other step waits for: its packages, the object store's CA
 * where its clients run, and the firewall.
 */
import { openingsFor } from "../../../config/firewall.ts";
import { packagesFor } from "../../../config/packages.ts";
import { installScript as packageInstallScript, releaseGuard } from "../../../components/host.ts";
import { FIREWALL_UNIT } from "../../../services/nftables/firewall.ts";
import { renderNftables } from "../../../services/nftables/nftables.ts";
import { file, service, type HostContext } from "./context.ts";

/** Renders the host's baseline; returns its package list. */
export function renderBaseline({ plan, hp, cfg, topo, facts, media, mediaCaPem, add, at }: HostContext): string[] {
  // Host: packages (components/host.ts).
  const packages = packagesFor(plan.roles, cfg);
  at("baseline", {
    kind: "packages", id: "packages", packages,
    release: { versionId: facts.release.versionId, title: facts.release.title },
    script: releaseGuard(facts.release) + packageInstallScript(packages),
  });

  // The object store's CA where its clients run (fleet/objectStoreCa.ts): no backups here, so the media CA alone.
  if (hp.objectStoreCa) {
    // Only the media CA is rendered: a plan asking for another (the backup store's) is not ours to fake.
    if (hp.objectStoreCa.files.some((f) => f !== media?.caFile)) throw new Error(`peers: ${plan.name} needs an object-store CA other than the media store's (${hp.objectStoreCa.files.join(", ")}), which the peers do not render`);
    const ca = add(file("object-store-ca", hp.objectStoreCa.path, mediaCaPem!.trimEnd() + "\n"));
    at("baseline", { kind: "files", id: "object-store-ca-file", files: [ca] });
  }

  // Firewall (services/nftables/firewall.ts).
  const fw = hp.firewall;
  const fwRules = add(file("firewall-rules", fw.rules, renderNftables({ openings: openingsFor(plan, topo, cfg) }), { mode: "0600" }));
  const fwUnitFile = add(file("firewall-unit", fw.unitFile, FIREWALL_UNIT));
  at("baseline", { kind: "files", id: "firewall-files", files: [fwRules, fwUnitFile] },
    service("firewall", fw.unit, { restartOn: [fwUnitFile], reloadOn: [fwRules], ownUnitFile: fwUnitFile }));
  return packages;
}
