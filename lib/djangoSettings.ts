/**
 * Where the project itself puts static and media files: read from its own settings on
 * the host (with the release's virtualenv and the service's env file), because most
 * projects hard-code STATIC_ROOT (`BASE_DIR / "staticfiles"`) instead of reading an env
 * variable. Pure: the probe script and what nginx and collectstatic make of its answer.
 */

/** What the probe prints (after `FLEET_FACT=`). Paths are absolute; unset settings are null. */
export interface DjangoPaths {
  readonly staticRoot: string | null;
  readonly staticUrl: string | null;
  readonly mediaRoot: string | null;
  readonly mediaUrl: string | null;
  /** django.contrib.staticfiles is installed (so collectstatic exists). */
  readonly staticfiles: boolean;
}

/**
 * Python run with the app's interpreter in its source folder. Only settings are loaded
 * (no django.setup(), no database): importing the settings module is all it costs.
 * `settings.STATIC_URL` already carries the script prefix ("static/" reads "/static/").
 */
export const SETTINGS_PROBE_PY = [
  "import json, os, sys",
  "sys.path.insert(0, os.getcwd())",
  "from django.conf import settings",
  "def path(v):",
  "    return os.path.abspath(os.fspath(v)) if v else None",
  "def url(v):",
  "    return str(v) if v else None",
  "print('FLEET_FACT=' + json.dumps({",
  "    'staticRoot': path(getattr(settings, 'STATIC_ROOT', None)),",
  "    'staticUrl': url(getattr(settings, 'STATIC_URL', None)),",
  "    'mediaRoot': path(getattr(settings, 'MEDIA_ROOT', None)),",
  "    'mediaUrl': url(getattr(settings, 'MEDIA_URL', None)),",
  "    'staticfiles': 'django.contrib.staticfiles' in settings.INSTALLED_APPS,",
  "}))",
].join("\n");

/** A URL prefix nginx can serve (`/static/`), or undefined when the files are served elsewhere (a CDN URL). */
export function servedPrefix(url: string | null): string | undefined {
  if (!url || /^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith("//")) return undefined;
  const withLead = url.startsWith("/") ? url : `/${url}`;
  const prefix = withLead.endsWith("/") ? withLead : `${withLead}/`;
  // "/" would shadow the app itself; anything nginx could read as syntax is left to the app.
  return prefix === "/" || !/^\/(?:[A-Za-z0-9._~-]+\/)*$/.test(prefix) ? undefined : prefix;
}

/** What the load balancer serves itself: URL prefix -> folder. */
export interface ServedFolder {
  readonly url: string;
  readonly root: string;
}

/**
 * The folders nginx serves for a project: static files (unless the app serves them, e.g.
 * WhiteNoise) and media. A setting the project leaves unset is not served.
 */
export function servedFolders(s: DjangoPaths, mode: "nginx" | "app"): { static?: ServedFolder; media?: ServedFolder } {
  const staticUrl = servedPrefix(s.staticUrl);
  const mediaUrl = servedPrefix(s.mediaUrl);
  return {
    ...(mode === "nginx" && s.staticfiles && s.staticRoot && staticUrl ? { static: { url: staticUrl, root: s.staticRoot } } : {}),
    ...(s.mediaRoot && mediaUrl ? { media: { url: mediaUrl, root: s.mediaRoot } } : {}),
  };
}
