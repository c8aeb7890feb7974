/** Where an app lives on a host. Pure. */
export function appPaths(app: string) {
  const root = `/srv/${app}`;
  return {
    root,
    /** The link to the running release; units run from `current/source` with `current/venv`. */
    current: `${root}/current`,
    source: `${root}/current/source`,
    venv: `${root}/current/venv`,
    /** One directory per deployed commit (see {@link releasePaths}). */
    releases: `${root}/releases`,
    /** A bare mirror of the app's repository; each release is cloned from it (hard links, no network). */
    repo: `${root}/repo.git`,
    /** Folders of a release's tree that outlive it (a STATIC_ROOT or MEDIA_ROOT inside the checkout). */
    shared: `${root}/shared`,
    /**
     * systemd EnvironmentFile, 0600 root, in root's /etc/<app> beside gunicorn.conf.py. Not
     * in the app's own tree: its user could swap it for a link to another app's env file,
     * which systemd (root) would read at the app's next start.
     */
    envFile: `/etc/${app}/env`,
    log: `${root}/log`,
    static: `${root}/public/static`,
    media: `${root}/public/media`,
    ssl: `${root}/ssl`,
    /** Mutable state such as the Celery beat schedule. */
    state: `/var/lib/${app}`,
    /** Where the code lived before releases (one checkout and virtualenv, changed in place). */
    legacySource: `${root}/source`,
  };
}

/** A release's id: the first 12 characters of its commit. */
export function releaseId(commit: string): string {
  return commit.slice(0, 12);
}

/** The folders of one release. */
export function releasePaths(app: string, commit: string) {
  const dir = `${appPaths(app).releases}/${releaseId(commit)}`;
  return {
    dir,
    source: `${dir}/source`,
    venv: `${dir}/venv`,
    /** Written last by the build: a release without it is unfinished and is never switched to. */
    builtMarker: `${dir}/.django-fleet-built`,
  };
}
