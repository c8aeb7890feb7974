/**
 * The uploads repository's own key. Uploads were once encrypted with the database backups'
 * key (pgBackRest's cipher); each now has its own, so the host that keeps uploads never
 * needs the key that decrypts the database. A repository still keyed with the old cipher
 * gets the media key added and the old key's entry removed, and nothing else: its
 * snapshots stay, and keys an operator added by hand stay. Pure builders of the step's
 * `create` and `check`.
 */
import { script } from "../../lib/shell.ts";
import { resticPrelude } from "./env.ts";

/** The shell variable holding the previous key (the database backups' cipher). */
export const OLD_KEY_VAR = "OLD_BACKUP_KEY";

/**
 * Lines defining `opens_with_old` (0 while the old key still opens the repository), and
 * `repo_state`: prints `new` (the media key opens it), `old` (only the old key does),
 * `none` (no repository yet) and fails naming both keys when neither opens an existing one.
 */
function keyFunctions(envFile: string, pathStyle: boolean): string[] {
  return [
    ...resticPrelude(envFile, pathStyle),
    `opens_with_old() { RESTIC_PASSWORD="$${OLD_KEY_VAR}" r cat config </dev/null >/dev/null 2>&1; }`,
    "repo_state() {",
    "  local err",
    "  if err=$(r cat config </dev/null 2>&1 >/dev/null); then echo new; return 0; fi",
    "  if opens_with_old; then echo old; return 0; fi",
    // restic 0.14 (Debian 12) has no distinct exit codes: its message tells the two apart.
    `  case "$err" in *"wrong password"*|*"no key found"*) ;; *) echo none; return 0 ;; esac`,
    '  echo "the uploads repository ($RESTIC_REPOSITORY) opens with neither the media backup key nor the database backup key: restore its key, or move the repository aside to start a new one" >&2',
    "  return 1",
    "}",
  ];
}

/**
 * Re-keys a repository that the old key still opens: adds the media key (from the env
 * file's RESTIC_PASSWORD, handed to restic in a root-only file, never an argument), then
 * removes the entry the old key opens (found by `key list` run with it, `current`).
 */
export function mediaKeyScript(envFile: string, pathStyle: boolean): string {
  return script(
    ...keyFunctions(envFile, pathStyle),
    "state=$(repo_state)",
    `if [ "$state" = none ]; then exit 0; fi`,
    `if [ "$state" = new ] && ! opens_with_old; then exit 0; fi`,
    `if [ "$state" = old ]; then`,
    "  dir=$(mktemp -d)",
    `  trap 'rm -rf -- "$dir"' EXIT`,
    `  (umask 077; printf '%s\\n' "$RESTIC_PASSWORD" > "$dir/new")`,
    `  RESTIC_PASSWORD="$${OLD_KEY_VAR}" r key add --new-password-file "$dir/new" </dev/null >/dev/null`,
    `  rm -rf -- "$dir"`,
    "fi",
    `old_id=$(RESTIC_PASSWORD="$${OLD_KEY_VAR}" r key list --json </dev/null | python3 -c 'import json,sys; print(next(k["id"] for k in json.load(sys.stdin) if k.get("current")))')`,
    `r key remove "$old_id" </dev/null >/dev/null`,
    `echo "uploads repository: media backup key added, the database backup key's entry ($old_id) removed"`,
    `if opens_with_old || [ "$(repo_state)" != new ]; then echo "the uploads repository did not take its new key" >&2; exit 1; fi`,
  );
}

/** Exits 0 while there is no repository, or the media key opens it and the old key does not. */
export function mediaKeyCheck(envFile: string, pathStyle: boolean): string {
  return script(
    ...keyFunctions(envFile, pathStyle),
    "state=$(repo_state)",
    `[ "$state" = none ] || { [ "$state" = new ] && ! opens_with_old; }`,
  );
}
