/** Where an app lives on a host. Pure. */
export function appPaths(app: string) {
  const root = `/srv/${app}`;
  return {
    root,
    source: `${root}/source`,
    venv: `${root}/venv`,
    /** systemd EnvironmentFile, 0600 root. */
    envFile: `${root}/env`,
    log: `${root}/log`,
    static: `${root}/public/static`,
    media: `${root}/public/media`,
    ssl: `${root}/ssl`,
    /** Mutable state such as the Celery beat schedule. */
    state: `/var/lib/${app}`,
  };
}
