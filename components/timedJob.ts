/**
 * A oneshot service started by a systemd timer (backups, restore drills): the two unit
 * files, then the timer enabled and running. Persistent timers catch up on a run missed
 * while the host was off; the service logs to the journal, and so to the logging host.
 */
import * as pulumi from "@pulumi/pulumi";
import { shortHash } from "../lib/hash.ts";
import { renderBackupService, renderBackupTimer } from "./timedJobUnits.ts";
import type { Host } from "./host.ts";

export function timedJob(parent: pulumi.Resource, name: string, h: Host, unit: string, user: string, execStart: string,
  description: string, onCalendar: string, after: pulumi.Resource[]): pulumi.Resource {
  const service = renderBackupService({ description, user, execStart, syslogIdentifier: unit });
  const timer = renderBackupTimer({ description, onCalendar });
  const files = [
    h.file(`${name}-service-unit`, { path: `/etc/systemd/system/${unit}.service`, content: service }, { parent }),
    h.file(`${name}-timer-unit`, { path: `/etc/systemd/system/${unit}.timer`, content: timer }, { parent }),
  ];
  return h.service(`${name}-timer`, {
    unit: `${unit}.timer`,
    restartOn: { service: shortHash(service), timer: shortHash(timer) },
    loads: files.map((file) => ({ file, then: "restart" as const })),
  }, { parent, dependsOn: [...files, ...after] });
}
