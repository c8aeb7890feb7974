/**
 * The read scripts of the certificate files (lib/certState.ts) and of PostgreSQL's
 * replication role and slots (services/postgresql/replicationState.ts), RUN with bash:
 * the certificates made by the real openssl, psql's answer given by a `runuser` stand-in
 * that records what it was asked.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { certFilesRead, certFilesState } from "../../lib/certState.ts";
import { selfSignedCertCommand } from "../../lib/selfSigned.ts";
import {
  replicationRoleRead, replicationRoleState, replicationSlotRead, replicationSlotState,
} from "../../services/postgresql/replicationState.ts";

const DIRS: string[] = [];
afterAll(() => { for (const d of DIRS) rmSync(d, { recursive: true, force: true }); });
const fresh = (prefix: string) => { const d = mkdtempSync(join(tmpdir(), prefix)); DIRS.push(d); return d; };
const bash = (body: string, path?: string) => {
  const r = spawnSync("bash", ["-euo", "pipefail", "-s"], { input: body, encoding: "utf8", env: { ...process.env, ...(path ? { PATH: `${path}:${process.env.PATH}` } : {}) } });
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr };
};

describe("certificate files: present, and a self-signed one's subject", () => {
  const files = (dir: string) => ({ certificatePath: join(dir, "site.crt"), keyPath: join(dir, "site.key") });
  const make = (dir: string, subject: string, san?: string) =>
    execFileSync("bash", ["-c", selfSignedCertCommand({ subject, days: 1, ...(san ? { san } : {}), ...files(dir) })]);
  it.each<[string, (dir: string) => void, boolean, (f: ReturnType<typeof files>) => string]>([
    ["a self-signed certificate for an IP, as made", (d) => make(d, "CN=198.18.0.10", "IP:198.18.0.10"), true, (f) => certFilesState(f, "CN=198.18.0.10")],
    ["a name's", (d) => make(d, "CN=shop.example", "DNS:shop.example"), true, (f) => certFilesState(f, "CN=shop.example")],
    ["another subject put in its place by hand", (d) => make(d, "CN=other.example"), true,
      (f) => `certificate ${f.certificatePath} subject=CN=other.example\nkey ${f.keyPath} present`],
    ["the key deleted", (d) => { make(d, "CN=invalid"); rmSync(join(d, "site.key")); }, true,
      (f) => `certificate ${f.certificatePath} subject=CN=invalid\nkey ${f.keyPath} absent`],
    ["the certificate emptied", (d) => { make(d, "CN=invalid"); writeFileSync(join(d, "site.crt"), ""); }, true,
      (f) => `certificate ${f.certificatePath} absent\nkey ${f.keyPath} present`],
    ["not a certificate", (d) => { make(d, "CN=invalid"); writeFileSync(join(d, "site.crt"), "junk\n"); }, true,
      (f) => `certificate ${f.certificatePath} subject=unreadable\nkey ${f.keyPath} present`],
    ["a placeholder replaced by the real one: presence only", (d) => make(d, "CN=shop.example"), false, (f) => certFilesState(f)],
    ["nothing there", () => undefined, false, (f) => `certificate ${f.certificatePath} absent\nkey ${f.keyPath} absent`],
  ])("%s", (_name, setup, withSubject, want) => {
    const dir = fresh("fleet-cert-");
    setup(dir);
    const r = bash(certFilesRead(files(dir), withSubject));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(want(files(dir)));
  });
});

describe("replication role and slots", () => {
  /** `runuser -u postgres -- psql ... -c SQL`: records the SQL, prints `answer`, exits `code`. */
  const host = (answer: string, code = 0) => {
    const dir = fresh("fleet-pg-read-");
    writeFileSync(join(dir, "runuser"), `#!/bin/bash\nprintf '%s\\n' "$*" >> ${dir}/calls\n${answer ? `printf '%s\\n' ${JSON.stringify(answer)}\n` : ""}exit ${code}\n`);
    chmodSync(join(dir, "runuser"), 0o755);
    return { dir, calls: () => readFileSync(join(dir, "calls"), "utf8").trim() };
  };
  it.each<[string, string, string, number, string]>([
    ["the role as wanted", replicationRoleRead("replicator"), "role replicator login replication", 0, replicationRoleState("replicator")],
    ["the role without LOGIN", replicationRoleRead("replicator"), "role replicator nologin replication", 0, "role replicator nologin replication"],
    ["the role dropped", replicationRoleRead("replicator"), "", 0, "role replicator absent"],
    ["the slot as wanted", replicationSlotRead("fleet_db2"), "slot fleet_db2 physical", 0, replicationSlotState("fleet_db2")],
    ["the slot dropped", replicationSlotRead("fleet_db2"), "", 0, "slot fleet_db2 absent"],
  ])("%s", (_name, body, answer, code, want) => {
    const h = host(answer, code);
    const r = bash(body, h.dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(want);
    expect(h.calls()).toMatch(/^-u postgres -- psql -XAtq -v ON_ERROR_STOP=1 -c SELECT /);
  });
  it("psql failing (the server down) fails the read: refresh marks it, never takes it for absent", () => {
    const h = host("", 2);
    expect(bash(replicationRoleRead("replicator"), h.dir).code).not.toBe(0);
    expect(bash(replicationSlotRead("fleet_db2"), h.dir).code).not.toBe(0);
  });
  it("the queries: the role's LOGIN and REPLICATION, the slot's type", () => {
    expect(replicationRoleRead("replicator")).toContain("rolcanlogin");
    expect(replicationRoleRead("replicator")).toContain("rolreplication");
    expect(replicationRoleRead("replicator")).toContain("FROM pg_roles WHERE rolname = '\\''replicator'\\''");
    expect(replicationSlotRead("fleet_db2")).toContain("slot_type FROM pg_replication_slots WHERE slot_name = '\\''fleet_db2'\\''");
  });
});
