/**
 * The app's data services on the hosts the plan puts them: PostgreSQL (the primary) with
 * the app's record, database and role, and RabbitMQ with the app's account.
 */
import { appRecord, appRecordPath } from "../../../config/appRecords.ts";
import { RABBIT_DEFAULT_USER } from "../../../lib/rabbitAccount.ts";
import { appHbaRules } from "../../../services/postgresql/dbServer.ts";
import { renderPgHba, renderPostgresConf } from "../../../services/postgresql/postgres.ts";
import { renderRabbitmqConf } from "../../../services/rabbitmq/rabbitmq.ts";
import { file, service, type HostContext } from "./context.ts";

/** Renders the host's PostgreSQL and RabbitMQ, each where the plan gives it one, then the app's accounts in them. */
export function renderDbBroker({ plan, hp, app, dbApps, secrets: s, add, at }: HostContext): void {
  const pgFiles = hp.database?.role === "primary" ? hp.database.postgres : undefined;
  if (hp.database && pgFiles) {
    // The app record on the database host (fleet/appRecords.ts).
    const record = add(file("app-record", appRecordPath(app.name), appRecord(app)));
    // PostgreSQL (services/postgresql/dbServer.ts).
    const pgConf = add(file("postgres-conf", pgFiles.conf,
      renderPostgresConf({ listenAddresses: hp.database.listenAddresses, port: hp.database.port }),
      { owner: "postgres", group: "postgres" }));
    const pgHba = add(file("postgres-hba", pgFiles.hba, renderPgHba({ rules: appHbaRules(plan.name, dbApps), replication: [] }),
      { owner: "postgres", group: "postgres", mode: "0640" }));
    at("services", { kind: "files", id: "app-record-file", files: [record] },
      { kind: "files", id: "postgres-files", files: [pgConf, pgHba] },
      service("postgresql", pgFiles.unit, { restartOn: [pgConf], reloadOn: [pgHba], readyCheck: { port: hp.database.port } }));
  }

  if (hp.rabbitmq) {
    // RabbitMQ (services/rabbitmq/broker.ts).
    const rabbitConf = add(file("rabbitmq-conf", hp.rabbitmq.conf,
      renderRabbitmqConf({ listenAddresses: hp.rabbitmq.listenAddresses, port: hp.rabbitmq.port })));
    at("services", { kind: "files", id: "rabbitmq-files", files: [rabbitConf] },
      service("rabbitmq", hp.rabbitmq.unit, { restartOn: [rabbitConf] }));
  }
  if (pgFiles) {
    at("services", { kind: "database", id: "database", database: app.database.name, owner: app.database.user, password: s.dbPassword });
  }
  if (hp.rabbitmq) {
    // The account is named after the app (lib/rabbitAccount.ts: its vhost and user); guest goes.
    at("services", { kind: "brokerAccount", id: "brokerAccount", vhost: app.name, user: app.name, password: s.brokerPassword, deleteUsers: [RABBIT_DEFAULT_USER] });
  }
}
