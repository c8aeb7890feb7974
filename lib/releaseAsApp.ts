/** Running a release's commands as the app user (root never works inside the app's tree). */
import { appPaths } from "../components/paths.ts";
import { appScript } from "./pythonInstall.ts";
import { cmd } from "./shell.ts";

/** `runuser` as the app user. */
export function asUser(app: string): string {
  return `runuser -u ${cmd(app)} --`;
}

/**
 * A script run as the app user with a clean environment: every change inside
 * /srv/<app> is made by its owner, so a folder it swapped for a link leads nowhere new.
 */
export function asAppScript(app: string, ...lines: string[]): string {
  return appScript({ user: app, home: appPaths(app).root }, ...lines);
}
