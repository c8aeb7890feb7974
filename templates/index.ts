// The pure renderers: typed options in, file content out. Nothing here touches a host.
export { MANAGED_NOTICE, managedHeader } from "./common.ts";
export * from "./nginxSite.ts";
export * from "./systemdUnits.ts";
export * from "./gunicornConf.ts";
export * from "./envFile.ts";
export * from "./rsyslog.ts";
export * from "./postgres.ts";
export * from "./redis.ts";
export * from "./mariadb.ts";
export * from "./memcached.ts";
export * from "./nftables.ts";
