/**
 * App records: the database host keeps one small file per deployed app (its database's
 * name), read with the host's facts before anything is registered. An app whose record
 * is there but that the config no longer names was removed: the preview says what
 * happens to it, and that its database stays. Pure.
 */
import type { AppPlan } from "./apps.ts";
import type { HostFacts } from "./releases.ts";
import type { Topology } from "./topology.ts";

/** Where the records live on the database host. */
export const APP_RECORD_DIR = "/etc/django-fleet/apps";

export function appRecordPath(app: string): string {
  return `${APP_RECORD_DIR}/${app}.app`;
}

/** The record's content: the app's database name. */
export function appRecord(app: Pick<AppPlan, "database">): string {
  return `${app.database.name}\n`;
}

/** Apps recorded on the database host that the config no longer names. */
export function removedApps(topo: Pick<Topology, "db" | "deployments">, facts: ReadonlyMap<string, HostFacts>): Array<{ name: string; database: string }> {
  const named = new Set(topo.deployments.map((d) => d.app.name));
  return (facts.get(topo.db.name)?.apps ?? []).filter((a) => !named.has(a.name));
}

/** What the preview says about a removed app. */
export function removedAppNote(app: { name: string; database: string }, engine: "postgresql" | "mariadb"): string {
  const drop = engine === "postgresql" ? `sudo -u postgres dropdb ${app.database}` : `mariadb -e 'DROP DATABASE ${app.database}'`;
  return `app "${app.name}" is no longer in the config: this update stops and removes its units, its virtual host and its broker user. `
    + `Its database "${app.database}" is kept, with its data (databases are never dropped by django-fleet); once you no longer need it, drop it by hand on the database host: ${drop}`;
}
