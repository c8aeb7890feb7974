/**
 * Renders a Prometheus scrape config for a django-fleet stack: an HTTP probe of the site
 * and of every app node's health endpoint, and the database endpoint. Pure.
 */
import type { DatabaseOutput } from "../../outputs.ts";

export interface MonitoringInputs {
  readonly siteUrl: string;
  readonly appHosts: readonly string[];
  readonly appPort: number;
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
    `      - targets: [${JSON.stringify(i.siteUrl)}]`,
    "  - job_name: app-health",
    "    metrics_path: /probe",
    "    params: { module: [http_2xx] }",
    "    static_configs:",
    `      - targets: [${i.appHosts.map((h) => JSON.stringify(`http://${h}:${i.appPort}/healthz`)).join(", ")}]`,
    "  - job_name: database",
    "    static_configs:",
    `      - targets: [${JSON.stringify(`${i.database.host}:${i.database.port}`)}]`,
    `        labels: { engine: ${JSON.stringify(i.database.engine)}, database: ${JSON.stringify(i.database.name)} }`,
  ];
  return lines.join("\n") + "\n";
}
