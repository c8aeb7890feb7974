/**
 * The sample app (examples/app, served as fleetdemo.git) as the peers deploy it, and the
 * raw stack configs of the dev stack and of a fleet that deploy it: the defaults of the
 * peers' inputs (inputs.ts), and the configs the benchmark and its tests give the program.
 */
import type { PythonProject } from "../../config/pythonProject.ts";
import type { Role } from "../../config/schema.ts";
import { appPaths } from "../../components/paths.ts";
import type { DjangoPaths } from "../../lib/djangoSettings.ts";
import type { PeerMedia } from "./inputs.ts";

/** The sample app's repository as the test hosts reach it (scripts/gitserve). */
export const FLEETDEMO_REPO = "git://198.18.0.1/fleetdemo.git";

/** The roles of the dev stack's one host (test/e2e/dev.test.ts). */
export const DEV_ROLES = ["loadBalancer", "app", "worker", "beat", "db", "broker", "logging"] as const;

/** How examples/app installs: config/pythonProject.ts's answer for its repository (requirements.txt, no hashes). */
export const FLEETDEMO_PROJECT: PythonProject = {
  method: "pip", reason: "requirements.txt found", requirementsFile: "requirements.txt", requireHashes: false,
};

/**
 * Where examples/app's settings put static and media files under the env file the dev
 * stack writes (STATIC_ROOT and MEDIA_ROOT come from DJANGO_STATIC_ROOT and
 * DJANGO_MEDIA_ROOT): what the dev stack's settings probe reads on the host.
 */
export function fleetdemoSettings(app = "fleetdemo"): DjangoPaths {
  const p = appPaths(app);
  return { staticRoot: p.static, staticUrl: "/static/", mediaRoot: p.media, mediaUrl: "/media/", staticfiles: true };
}

/**
 * The raw stack config of test/e2e/dev.test.ts's `devConfig` (its inventory given
 * separately): one host with every role, the sample app, a RabbitMQ broker. Keys and
 * values as Pulumi hands them to the program. (dev.test.ts keeps its own copy: a test
 * file exports nothing.)
 */
export function devStackConfig(o: { hostName: string; workers?: number; repo?: string }): Record<string, string> {
  return fleetStackConfig({ hosts: [{ name: o.hostName, roles: DEV_ROLES }], workers: o.workers, repo: o.repo });
}


/**
 * The raw stack config of a fleet of one app (the dev stack's app and broker) on `hosts`:
 * keys and values as Pulumi hands them to the program (`media` is set as a secret).
 */
export function fleetStackConfig(o: { hosts: ReadonlyArray<{ name: string; roles: readonly Role[] }>; workers?: number; repo?: string; media?: PeerMedia }): Record<string, string> {
  const c = (v: unknown) => JSON.stringify(v);
  return {
    "django-fleet:hosts": c(o.hosts.map((h) => ({ name: h.name, roles: h.roles }))),
    "django-fleet:app": c({
      name: "fleetdemo", repo: o.repo ?? FLEETDEMO_REPO, ref: "main",
      settingsModule: "fleetdemo.settings", wsgiModule: "fleetdemo.wsgi:application", celeryApp: "fleetdemo",
      gunicorn: { workers: o.workers ?? 2 },
    }),
    "django-fleet:broker": c({ kind: "rabbitmq" }),
    ...(o.media ? { "django-fleet:media": c({ storage: "s3", target: o.media.target }) } : {}),
  };
}
