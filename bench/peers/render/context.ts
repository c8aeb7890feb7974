/**
 * What each group of a host's steps (render/*.ts) is given: the fleet's decisions, the
 * same for every host, and the host's own plan with the two ways to record what it makes
 * (`add` a file, put steps `at` a stage). And the two shapes every group writes: a file as
 * RemoteFile writes it, and a unit kept running.
 */
import type { AppPlan } from "../../../config/apps.ts";
import type { ObjectStore } from "../../../config/objectStore.ts";
import type { PythonProject } from "../../../config/pythonProject.ts";
import type { HostFacts } from "../../../config/releases.ts";
import type { StackConfig } from "../../../config/schema.ts";
import type { HostPlan, Topology } from "../../../config/topology.ts";
import type { appPaths, releasePaths } from "../../../components/paths.ts";
import type { DjangoPaths } from "../../../lib/djangoSettings.ts";
import type { HostServicesPlan } from "../../../plan/fleetPlan.ts";
import type { Stage } from "../../../plan/order.ts";
import type { ReadyCheck } from "../../../providers/systemdService.ops.ts";
import type { AppDatabase } from "../../../services/postgresql/dbServer.ts";
import type { PeerSecrets } from "../inputs.ts";
import type { RenderedFile, ServiceStep, Step } from "../types.ts";

/** The fleet's decisions, read once by render.ts `renderPeerFleet`. */
export interface FleetContext {
  readonly cfg: StackConfig;
  readonly topo: Topology;
  /** The one app. */
  readonly app: AppPlan;
  /** The hosts' Debian release (pinned: the same on every host). */
  readonly facts: HostFacts;
  /** The commit the ref resolves to (40 hex digits). */
  readonly commit: string;
  readonly project: PythonProject;
  /** Where the settings put static and media, mapped as AppRelease maps them. */
  readonly settings: DjangoPaths;
  readonly secrets: PeerSecrets;
  /** The uploads' object store, if any. */
  readonly media: ObjectStore | undefined;
  /** The content of the media store's CA file, if it names one. */
  readonly mediaCaPem: string | undefined;
  /** The app's paths (components/paths.ts `appPaths`). */
  readonly paths: ReturnType<typeof appPaths>;
  /** The release's paths (components/paths.ts `releasePaths`). */
  readonly release: ReturnType<typeof releasePaths>;
  /** The release's checkout and virtualenv, as the app's scripts take them. */
  readonly code: { readonly source: string; readonly venv: string };
  /** The app's database and the hosts that reach it (services/postgresql/dbServer.ts `appHbaRules`). */
  readonly dbApps: readonly AppDatabase[];
}

/** One host being rendered. */
export interface HostContext extends FleetContext {
  /** The host, as the topology gives it. */
  readonly plan: HostPlan;
  /** What the fleet's plan gives it (plan/fleetPlan.ts). */
  readonly hp: HostServicesPlan;
  /** Records a file the host gets; returns its id, for steps and triggers. */
  readonly add: (f: RenderedFile) => string;
  /** Appends steps to the host's, in `stage` of the fleet's order (plan/order.ts). */
  readonly at: (stage: Stage, ...steps: Step[]) => void;
}

/** A file as RemoteFile writes it by default (0644 root:root). */
export function file(id: string, path: string, content: string, o: Partial<Pick<RenderedFile, "mode" | "owner" | "group" | "secret">> = {}): RenderedFile {
  return { id, path, content, mode: o.mode ?? "0644", owner: o.owner ?? "root", group: o.group ?? "root", secret: o.secret ?? false };
}

/** A unit kept running (a {@link ServiceStep}), with no trigger unless given. */
export function service(id: string, unit: string, o: { restartOn?: string[]; reloadOn?: string[]; readyCheck?: ReadyCheck; ownUnitFile?: string }): ServiceStep {
  return {
    kind: "service", id, unit, restartOn: o.restartOn ?? [], reloadOn: o.reloadOn ?? [],
    ...(o.readyCheck ? { readyCheck: o.readyCheck } : {}), ...(o.ownUnitFile ? { ownUnitFile: o.ownUnitFile } : {}),
  };
}
