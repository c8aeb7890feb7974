/** nftables on every host: the firewall that drops what no descriptor opens. */
import type { ServiceDescriptor } from "../descriptor.ts";

export const nftables: ServiceDescriptor = {
  name: "nftables",
  runsOn: () => true,
  packages: ["nftables"],
  logs: [],
};
