/**
 * One Host component per server, reached with the stack's key. Every other step on a host
 * is built through it (its connection, and `ready`: what that step waits for).
 */
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../components/host.ts";
import type { Preflight } from "../lib/preflight.ts";

/** The Host of each server, by name, in the topology's order. */
export type Hosts = ReadonlyMap<string, Host>;

/** The Host named `name` (the topology named it, so it exists). */
export function hostOf(hosts: Hosts, name: string): Host {
  return hosts.get(name)!;
}

export function buildHosts({ cfg, topo, privateKey, facts }: Preflight): Hosts {
  return new Map(topo.hosts.map((plan) => [plan.name, new Host(plan.name, {
    plan,
    config: cfg,
    facts: facts.get(plan.name)!,
    connection: pulumi.secret(pulumi.output(privateKey).apply((key) => ({
      host: plan.address, port: plan.port, user: plan.user, hostKey: plan.hostKey, privateKey: key,
    }))),
  })]));
}
