/**
 * The RabbitMQ account script: the password reaches rabbitmqctl on standard input, never
 * as an argument (ps and the journal show arguments). Run with a stand-in rabbitmqctl.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { rabbitUserCommands } from "../../components/broker.ts";
import { script } from "../../lib/shell.ts";

const PASSWORD = "s3cretPassw0rdXYZ";

/** Runs the commands with a rabbitmqctl that lists `users` and logs each call's argv and stdin. */
function run(users: string[], body: string): { status: number | null; log: string } {
  const dir = mkdtempSync(join(tmpdir(), "fleet-rabbit-"));
  const log = join(dir, "log");
  writeFileSync(join(dir, "rabbitmqctl"), [
    "#!/bin/bash",
    `if [ "$2" = list_users ]; then printf '%s\\tnone\\n' ${users.join(" ")}; exit 0; fi`,
    `echo "argv: $*" >> ${log}`,
    `echo "stdin: $(cat)" >> ${log}`,
  ].join("\n"));
  chmodSync(join(dir, "rabbitmqctl"), 0o755);
  const r = spawnSync("bash", ["-euo", "pipefail", "-c", body], {
    encoding: "utf8", env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, BROKER_PASSWORD: PASSWORD },
  });
  const out = { status: r.status, log: readFileSync(log, "utf8") };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

describe("RabbitMQ user", () => {
  it.each([
    ["a new user is added", [], "add_user"],
    ["an existing user gets its password set", ["guest", "shop"], "change_password"],
  ] as const)("%s, the password on stdin only", (_what, users, verb) => {
    const r = run([...users], script(...rabbitUserCommands("shop")));
    expect(r.status).toBe(0);
    expect(r.log).toBe(`argv: -q ${verb} shop\nstdin: ${PASSWORD}\n`);
  });

  it("the check can fail: a password given as an argument shows in argv", () => {
    const r = run([], script(`rabbitmqctl -q add_user shop "$BROKER_PASSWORD" </dev/null`));
    expect(r.log).toContain(`argv: -q add_user shop ${PASSWORD}`);
  });
});
