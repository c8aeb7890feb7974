/**
 * ReleaseSwitch: one app node moved onto a release, behind a health gate. Its preview line
 * is the move itself (`release: "3f2a1c0e9b7d" => "9b7e44d0a1c2"`). On create or update
 * it takes the node out of the load balancer, lets requests in flight finish, points
 * `current` at the release, restarts gunicorn and waits for the health check before the
 * node goes back in; a node that fails the check is switched back and the run fails.
 * A node that cannot be taken out (the only one in rotation) keeps serving through the
 * restart: the release is first checked beside the running one (lib/sideGate.ts), and
 * the restart loses no connection because the listening socket is systemd's.
 * Refresh reads what `current` resolves to (a link to anything but a built release reads
 * as `current -> <target>`) and whether the node is drained, so a hand-switched or
 * dangling link, or a node left out of rotation, shows as drift.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "./ssh.ts";
import { lazyProvider, PROVIDER_SCHEMA } from "./dynamic.ts";

const provider = lazyProvider(new URL("./releaseSwitch.ops.ts", import.meta.url).href);

export interface ReleaseSwitchArgs {
  /** How to reach the app node. */
  readonly connection: pulumi.Input<Connection>;
  /** The app (its user and /srv/<app>). */
  readonly app: string;
  /** The release to run: the first 12 characters of its commit. */
  readonly release: string;
  /** The gunicorn unit restarted onto it. */
  readonly unit: string;
  /** Named hashes of what else needs a gated restart when it changes (the env file, the unit file). @default {} */
  readonly restartOn?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The health gate: URL on the node, Host header, expected status, seconds. */
  readonly health: { readonly url: string; readonly hostHeader: string; readonly status?: number; readonly timeoutSeconds: number };
  /** The load balancer that drains the node, when there is one: its connection, the site file and the node's upstream. @default no drain */
  readonly drain?: { readonly connection: pulumi.Input<Connection>; readonly site: string; readonly server: string; readonly seconds: number };
  /**
   * How to start a release beside the running one: the env file, WSGI callable and gunicorn
   * config the unit uses. When the node cannot be drained (the only node in rotation), the
   * new release must first pass the health check there, so a failing one never serves a
   * request. @default no side gate
   */
  readonly side?: { readonly envFile: string; readonly wsgiModule: string; readonly configFile: string };
  /** Releases kept on the host after the switch. */
  readonly keepReleases: number;
}

export class ReleaseSwitch extends pulumi.dynamic.Resource {
  /** The release the node runs. */
  public readonly release!: pulumi.Output<string>;

  constructor(name: string, args: ReleaseSwitchArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, {
      connection: pulumi.secret(args.connection),
      app: args.app,
      release: args.release,
      unit: args.unit,
      restartOn: args.restartOn ?? {},
      health: args.health,
      drain: args.drain ? pulumi.secret(args.drain) : undefined,
      side: args.side,
      keepReleases: args.keepReleases,
      inService: true,
      schema: PROVIDER_SCHEMA,
    }, { ...opts, additionalSecretOutputs: ["connection", "drain"] }, "fleet", "ReleaseSwitch");
  }
}
