// Drops the "creating" records from a `pulumi stack export` file, in place; exits 1 when
// there were none (nothing to import). Used by scripts/pulumi after an interrupted run.
import { readFileSync, writeFileSync } from "node:fs";

const file = process.argv[2];
const state = JSON.parse(readFileSync(file, "utf8"));
const ops = state.deployment?.pending_operations ?? [];
const kept = ops.filter((op) => op.type !== "creating");
if (kept.length === ops.length) process.exit(1);
state.deployment.pending_operations = kept;
writeFileSync(file, JSON.stringify(state));
