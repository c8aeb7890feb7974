/** The type tokens of our dynamic resources, as the engine (and Pulumi's mocks) see them. */
export const T = {
  file: "pulumi-nodejs:dynamic/fleet:RemoteFile",
  script: "pulumi-nodejs:dynamic/fleet:RemoteScript",
  service: "pulumi-nodejs:dynamic/fleet:SystemdService",
  database: "pulumi-nodejs:dynamic/fleet:PostgresDatabase",
  secret: "pulumi-nodejs:dynamic/fleet:RandomSecret",
  probe: "pulumi-nodejs:dynamic/fleet:RemoteProbe",
  gate: "pulumi-nodejs:dynamic/fleet:ReleaseSwitch",
} as const;
