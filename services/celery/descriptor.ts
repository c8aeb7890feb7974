/**
 * Celery's workers and beat. Nothing of their own to install, log or open: they run from
 * the app's virtualenv (services/app), log to the journal and only connect out.
 */
import type { ServiceDescriptor } from "../descriptor.ts";

export const celery: ServiceDescriptor = {
  name: "celery",
  runsOn: (roles) => roles.has("worker") || roles.has("beat"),
  packages: [],
  logs: [],
};
