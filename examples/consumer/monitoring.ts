/**
 * Renders a Prometheus scrape config for a django-fleet stack: an HTTP probe of the site
 * of every app and of every app node's health endpoint, and the database endpoint; and an
 * app's database DSN for a metrics exporter. Pure.
 */
import type { DatabaseOutput } from "../../outputs.ts";

export interface MonitoringInputs {
  /** Every app's URL. */
  readonly sites: readonly string[];
  /** Every app node's health URL. */
  readonly healthChecks: readonly string[];
  readonly database: DatabaseOutput;
}

export function renderMonitoring(i: MonitoringInputs): string {
  const lines = [
    "# Rendered from the django-fleet stack outputs.",
    "scrape_configs:",
    "  - job_name: site",
    "    metrics_path: /probe",
    "    params: { module: [http_2xx] }",
    "    static_configs:",
    `      - targets: [${i.sites.map((u) => JSON.stringify(u)).join(", ")}]`,
    "  - job_name: app-health",
    "    metrics_path: /probe",
    "    params: { module: [http_2xx] }",
    "    static_configs:",
    `      - targets: [${i.healthChecks.map((u) => JSON.stringify(u)).join(", ")}]`,
    "  - job_name: database",
    "    static_configs:",
    `      - targets: [${JSON.stringify(`${i.database.host}:${i.database.port}`)}]`,
    `        labels: { engine: ${JSON.stringify(i.database.engine)}, database: ${JSON.stringify(i.database.name)} }`,
  ];
  return lines.join("\n") + "\n";
}

/** An app's database as a DSN (`postgresql://` or `mysql://`), user and password URL-encoded. */
export function databaseDsn(db: DatabaseOutput, app: { readonly name: string; readonly user: string }, password: string): string {
  const u = encodeURIComponent;
  const scheme = db.engine === "mariadb" ? "mysql" : "postgresql";
  return `${scheme}://${u(app.user)}:${u(password)}@${db.host}:${db.port}/${u(app.name)}`;
}
