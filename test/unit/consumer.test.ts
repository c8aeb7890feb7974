/** The example consumer's pure parts (examples/consumer/monitoring.ts). */
import { describe, expect, it } from "vitest";
import { databaseDsn } from "../../examples/consumer/monitoring.ts";

describe("databaseDsn", () => {
  const pg = { engine: "postgresql", host: "10.0.0.21", port: 5432, name: "fleetdemo", user: "fleetdemo" };
  const cases: Array<[string, typeof pg, { name: string; user: string }, string, string]> = [
    ["postgresql", pg, { name: "blog", user: "blog" }, "abc123", "postgresql://blog:abc123@10.0.0.21:5432/blog"],
    ["mariadb: the mysql scheme", { ...pg, engine: "mariadb", port: 3306 }, { name: "blog", user: "blog" }, "abc123", "mysql://blog:abc123@10.0.0.21:3306/blog"],
    ["user and password URL-encoded", pg, { name: "my db", user: "a@b" }, "p@ss/w:rd", "postgresql://a%40b:p%40ss%2Fw%3Ard@10.0.0.21:5432/my%20db"],
  ];
  for (const [name, db, app, password, expected] of cases) it(name, () => expect(databaseDsn(db, app, password)).toBe(expected));
});
