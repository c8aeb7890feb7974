/**
 * Point-in-time restore of a stack's PostgreSQL primary, then the stack converged again:
 *
 *   npm run restore -- --stack prod --to "2026-11-22 10:15:00"
 *
 * 1. The primary is restored with pgBackRest to that moment (`--type=time`, then
 *    promoted): every transaction committed up to it is there, none after.
 * 2. `up --refresh`: the replicas no longer stream (they are ahead of the restored
 *    primary), so refresh finds them out of place and `up` re-seeds them; replication
 *    slots, lost with the old cluster, are made again.
 * 3. `preview` must show no change; the command fails if it does.
 *
 * The time is read by PostgreSQL in the server's time zone (UTC on Debian servers unless
 * changed), unless it carries an offset ("2026-11-22 10:15:00+01").
 */
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { resolve } from "node:path";
import { parseConfig } from "../config/load.ts";
import { readInventory, readPrivateKey } from "../config/files.ts";
import { buildTopology } from "../config/topology.ts";
import { cmd, script } from "../lib/shell.ts";
import { run } from "../providers/ssh.ts";
import { FORGET_RESTORE_SETTINGS, STANZA } from "../services/pgbackrest/pgBackup.ts";
import { RELEASES } from "../config/releases.ts";

const ROOT = resolve(import.meta.dirname, "..");
/** `YYYY-MM-DD HH:MM:SS`, optional fraction and offset: what PostgreSQL's recovery_target_time takes. */
export const TARGET_TIME = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:[+-]\d{2}(?::?\d{2})?|Z| UTC)?$/;

function usage(msg: string): never {
  console.error(`restore: ${msg}\nusage: npm run restore -- --stack STACK --to "YYYY-MM-DD HH:MM:SS[+TZ]"`);
  process.exit(2);
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const say = (s: string) => console.log(`==> ${s}`);

async function main(): Promise<void> {
  const stackName = arg("--stack") ?? usage("--stack is required");
  const to = arg("--to") ?? usage("--to is required");
  if (!TARGET_TIME.test(to)) usage(`--to ${JSON.stringify(to)} is not a time like "2026-11-22 10:15:00"`);

  const stack = await LocalWorkspace.selectStack({ stackName, workDir: ROOT });
  const raw = Object.fromEntries(Object.entries(await stack.getAllConfig()).map(([k, v]) => [k, v.value]));
  const cfg = parseConfig(raw);
  if (cfg.database.engine !== "postgresql" || !cfg.backup.target) {
    usage("point-in-time restore needs database.engine postgresql and backup.target");
  }
  const topo = buildTopology(cfg, cfg.inventoryFile ? readInventory(cfg.inventoryFile) : undefined);
  const db = topo.db;
  const connection = { host: db.address, port: db.port, user: db.user, hostKey: db.hostKey, privateKey: readPrivateKey(topo.privateKeyPath) };
  const started = Date.now();

  // The host's PostgreSQL major version decides the unit name.
  const release = (await run(connection, script(". /etc/os-release", 'echo "$VERSION_ID"'), { step: "read the release" })).stdout.trim();
  const pg = Object.values(RELEASES).find((r) => r.versionId === release)?.postgresql;
  if (!pg) throw new Error(`the database host runs Debian ${release}, which this tool does not know`);
  const unit = `postgresql@${pg}-main.service`;
  const inRecovery = "cd / && runuser -u postgres -- psql -XAtc 'SELECT pg_is_in_recovery()'";

  say(`restoring ${db.name} (${db.address}) to ${to}`);
  const out = await run(connection, script(
    `systemctl stop ${unit}`,
    `runuser -u postgres -- pgbackrest --stanza=${STANZA} --delta --type=time --target=${cmd(to)} --target-action=promote --log-level-console=info restore`,
    `systemctl start ${unit}`,
    `for _ in $(seq 1 600); do [ "$(${inRecovery} 2>/dev/null)" = f ] && break; sleep 1; done`,
    `[ "$(${inRecovery})" = f ] || { echo "recovery did not finish in 10 minutes; see journalctl -u ${unit}" >&2; exit 1; }`,
    `cd / && runuser -u postgres -- psql -Xq -v ON_ERROR_STOP=1 ${FORGET_RESTORE_SETTINGS} -c 'SELECT pg_reload_conf()' >/dev/null`,
  ), { step: "point-in-time restore" });
  process.stdout.write(out.stdout.split("\n").filter((l) => /restore command (begin|end)|INFO: restore/.test(l)).slice(-3).map((l) => `    ${l}\n`).join(""));
  say(`primary restored and promoted in ${((Date.now() - started) / 1000).toFixed(1)} s; converging the stack (replicas re-seeded)`);

  const up = await stack.up({ refresh: true, onOutput: (s) => process.stdout.write(s) });
  if (up.summary.result !== "succeeded") throw new Error(`up ${up.summary.result}`);
  const preview = await stack.preview({ diff: true });
  const changed = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
  if (changed.length) throw new Error(`after the restore, preview still shows changes: ${JSON.stringify(preview.changeSummary)}`);
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${stackName} restored to ${to}, preview shows no changes`);
}

main().catch((e: unknown) => {
  console.error(`restore: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
