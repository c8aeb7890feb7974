/**
 * Reads each host's facts (Debian release, Python) over SSH while the program runs, so
 * paths and packages are chosen for the release the host really runs, and a host on an
 * unsupported release is refused before anything changes. One short read-only script per
 * host, all hosts at once; a host with `hosts[].os` set is not contacted.
 */
import { ConfigError } from "../config/load.ts";
import { parseHostFacts, pinnedFacts, RELEASES, type HostFacts, type ReleaseId } from "../config/releases.ts";
import type { HostPlan } from "../config/topology.ts";
import { run } from "../providers/ssh.ts";
import { APP_RECORD_DIR } from "../config/appRecords.ts";

/** Read-only: the os-release file and the version of python3, if installed. */
/** Also the app records (config/appRecords.ts): which apps the last `up` deployed. */
export const FACTS_SCRIPT = "cat /etc/os-release\necho \"python3=$(python3 -c 'import platform; print(platform.python_version())' 2>/dev/null || true)\"\n"
  + `for f in ${APP_RECORD_DIR}/*.app; do [ -f "$f" ] && echo "fleet_app=$(basename "$f" .app) $(head -c 100 "$f")"; done; true\n`;

export interface FactsRequest {
  readonly plan: HostPlan;
  /** Index of the host in `hosts`, for error messages. */
  readonly index: number;
  /** `hosts[].os`, when the config pins it. */
  readonly pinned?: ReleaseId;
}

/** Every host's facts, by host name; one ConfigError listing every host that failed. */
export async function readHostFacts(requests: readonly FactsRequest[], privateKey: string): Promise<Map<string, HostFacts>> {
  const problems: string[] = [];
  const supported = Object.values(RELEASES).map((r) => r.title).join(" or ");
  const results = await Promise.all(requests.map(async ({ plan, index, pinned }): Promise<[string, HostFacts | undefined]> => {
    if (pinned) return [plan.name, pinnedFacts(pinned)];
    const where = `hosts[${index}] (${plan.name}, ${plan.address})`;
    try {
      const r = await run({ host: plan.address, port: plan.port, user: plan.user, hostKey: plan.hostKey, privateKey }, FACTS_SCRIPT, {
        // One retry: a config pointing at the wrong host must fail in seconds.
        step: "read /etc/os-release", timeoutMs: 60_000, attempts: 2,
      });
      const facts = parseHostFacts(r.stdout);
      if (typeof facts === "string") {
        problems.push(`${where}: ${facts}; django-fleet supports ${supported}. Fix: use a host running one of those`);
        return [plan.name, undefined];
      }
      return [plan.name, facts];
    } catch (e) {
      const why = (e instanceof Error ? e.message : String(e)).split("\n").slice(0, 4).join(" ");
      problems.push(`${where}: cannot read its Debian release over SSH (${why}). Fix: check hosts[${index}].address, hostKey and sshPrivateKeyPath, or pin the release with \`npm run pulumi -- config set --path 'hosts[${index}].os' debian13\` to preview offline`);
      return [plan.name, undefined];
    }
  }));
  if (problems.length) throw new ConfigError(problems);
  return new Map(results.map(([name, f]) => [name, f!]));
}
