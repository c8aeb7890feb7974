/** Taking an app node out of the load balancer's rotation and back (pure builders). */
import { cmd, script } from "./shell.ts";

/** One node's line in an app's nginx site, and the site. */
export interface UpstreamRef {
  /** `/etc/nginx/sites-enabled/<app>.conf` on the load balancer. */
  readonly site: string;
  /** `address:port` as the site writes it (`[v6]:port` for IPv6). */
  readonly server: string;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The node's upstream line in the site, as an extended regex (group 1: the line before `;` or ` down;`). */
function upstreamLine(u: UpstreamRef): string {
  return `^([[:space:]]*server ${escapeRegex(u.server)} [^;]*[^;[:space:]])`;
}

/**
 * The lock every site edit on the load balancer takes, so two nodes' drains never
 * interleave. In root's own folder, not /run/lock (every user may write there).
 */
const NGINX_LOCK_DIR = "/run/django-fleet";
const NGINX_LOCK = `${NGINX_LOCK_DIR}/nginx.lock`;

/**
 * Takes the node out of the load balancer (`down` on its upstream line, then a graceful
 * nginx reload: requests in flight finish on the old workers) or puts it back. The last
 * node still serving is never taken out. Prints `drained`, `undrained` or why not.
 */
export function drainScript(u: UpstreamRef, out: boolean): string {
  const line = upstreamLine(u);
  return script(
    `install -d -m 0755 ${cmd(NGINX_LOCK_DIR)}`,
    `exec 9>${cmd(NGINX_LOCK)}`,
    "flock -w 120 9",
    `f=${cmd(u.site)}`,
    `if [ ! -f "$f" ] || ! grep -Eq ${cmd(`${line}( down)?;`)} "$f"; then echo "not in the load balancer"; exit 0; fi`,
    out
      ? [
        `if grep -Eq ${cmd(`${line} down;`)} "$f"; then echo drained; exit 0; fi`,
        // The others still in rotation: the last one serving stays in.
        `others=$(grep -E '^[[:space:]]*server [^;]* max_fails=[^;]*;' "$f" | grep -v ' down;' | grep -Ecv ${cmd(`${line};`)} || true)`,
        `if [ "$others" -lt 1 ]; then echo "the only node in rotation: not drained"; exit 0; fi`,
        `sed -i -E ${cmd(`s/${line};/\\1 down;/`)} "$f"`,
        "nginx -t -q && systemctl reload nginx",
        "echo drained",
      ].join("\n")
      : [
        `if ! grep -Eq ${cmd(`${line} down;`)} "$f"; then echo undrained; exit 0; fi`,
        `sed -i -E ${cmd(`s/${line} down;/\\1;/`)} "$f"`,
        "nginx -t -q && systemctl reload nginx",
        "echo undrained",
      ].join("\n"),
  );
}

/** Prints `down` when the node is out of the load balancer, else `up`. */
export function drainedProbe(u: UpstreamRef): string {
  const line = upstreamLine(u);
  return script(`if [ -f ${cmd(u.site)} ] && grep -Eq ${cmd(`${line} down;`)} ${cmd(u.site)}; then echo down; else echo up; fi`);
}
