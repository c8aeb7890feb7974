/** RabbitMQ, the default Celery broker. */
import type { ServiceDescriptor } from "../descriptor.ts";

export const rabbitmq: ServiceDescriptor = {
  name: "rabbitmq",
  runsOn: (roles, cfg) => roles.has("broker") && cfg.broker.kind === "rabbitmq",
  packages: ["rabbitmq-server"],
  logs: [
    // `$RABBITMQ_LOG_BASE/<nodename>.log` = `/var/log/rabbitmq/rabbit@<host>.log`. (Debian's
    // unit also appends the node's stdout/stderr to rabbitmq-server.log and
    // rabbitmq-server.error.log: only the startup banner and crash dumps, not followed.)
    { tag: "rabbitmq", file: "/var/log/rabbitmq/rabbit@*.log" },
  ],
  openings: ({ topo, from }) => [{ port: 5672, from: from(topo.codeHosts), why: "rabbitmq, from app/worker hosts" }],
};
