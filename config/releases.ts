/**
 * The Debian releases django-fleet supports, and what differs between them. Pure.
 *
 * A host's release is a fact read from its /etc/os-release (see lib/hostFacts.ts), or
 * pinned with `hosts[].os`. Everything that depends on it (the PostgreSQL major version
 * in config paths, the Python a project must accept) is looked up here, so supporting a
 * new release is one row.
 */

/** A supported release, as written in `hosts[].os`. */
export const RELEASE_IDS = ["debian12", "debian13"] as const;
export type ReleaseId = (typeof RELEASE_IDS)[number];

/** What a release ships that our components depend on. */
export interface Release {
  /** `debian12`, `debian13`. */
  readonly id: ReleaseId;
  /** For messages: `Debian 13 (trixie)`. */
  readonly title: string;
  /** `VERSION_ID` in /etc/os-release. */
  readonly versionId: string;
  /** `VERSION_CODENAME`. */
  readonly codename: string;
  /** The `python3` it ships (a host's own `python3 -V` wins when it can be read). */
  readonly python: string;
  /** The PostgreSQL major version of its `postgresql` package: /etc/postgresql/<N>/main. */
  readonly postgresql: string;
}

export const RELEASES: Readonly<Record<ReleaseId, Release>> = {
  debian12: { id: "debian12", title: "Debian 12 (bookworm)", versionId: "12", codename: "bookworm", python: "3.11.2", postgresql: "15" },
  debian13: { id: "debian13", title: "Debian 13 (trixie)", versionId: "13", codename: "trixie", python: "3.13.5", postgresql: "17" },
};

/** What was read on a host: its release and its Python. */
export interface HostFacts {
  readonly release: Release;
  /** `python3` on the host, e.g. "3.13.5"; the release's own when python3 is not installed yet. */
  readonly python: string;
  /** The apps recorded on the host (the database host keeps one record per app): name and database. @default [] */
  readonly apps?: ReadonlyArray<{ readonly name: string; readonly database: string }>;
}

/** Parses `KEY=value` lines of os-release(5); values may be quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2]!;
    if (/^".*"$/.test(v) || /^'.*'$/.test(v)) v = v.slice(1, -1);
    out[m[1]!] = v.replace(/\\(.)/g, "$1");
  }
  return out;
}

/**
 * The release an os-release file describes, or an error text naming what was found.
 * Only Debian itself is accepted: derivatives (Ubuntu, Raspbian) ship other versions.
 */
export function releaseOf(osRelease: Record<string, string>): Release | string {
  const pretty = osRelease.PRETTY_NAME ?? `${osRelease.ID ?? "unknown"} ${osRelease.VERSION_ID ?? ""}`.trim();
  if (osRelease.ID !== "debian") return `${pretty} is not Debian`;
  const hit = Object.values(RELEASES).find((r) => r.versionId === osRelease.VERSION_ID);
  return hit ?? `${pretty} is not a supported Debian release`;
}

/** Parses the probe's output (os-release, then `python3=<version>`) into facts. */
export function parseHostFacts(stdout: string): HostFacts | string {
  const release = releaseOf(parseOsRelease(stdout));
  if (typeof release === "string") return release;
  const py = /^python3=(\d+\.\d+(?:\.\d+)?)\s*$/m.exec(stdout)?.[1];
  const apps = [...stdout.matchAll(/^fleet_app=([a-z][a-z0-9_]{0,30}) ([A-Za-z_][A-Za-z0-9_]{0,62})\s*$/gm)].map((m) => ({ name: m[1]!, database: m[2]! }));
  return { release, python: py ?? release.python, apps };
}

/** The facts of a host whose release is pinned in config (no probe). */
export function pinnedFacts(id: ReleaseId): HostFacts {
  const release = RELEASES[id];
  return { release, python: release.python };
}
