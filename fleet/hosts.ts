/**
 * One Host component per server, reached with the stack's key, with what it gets before
 * anything else (its baseline: the firewall and its openings, a private object store's CA,
 * its packages). Every other step on a host is built through it (`host.file(...)`, ...),
 * which fills in its connection and makes the step wait for that baseline.
 */
import * as pulumi from "@pulumi/pulumi";
import { Host } from "../components/host.ts";
import { openingsFor } from "../config/firewall.ts";
import { Firewall } from "../services/nftables/firewall.ts";
import type { Preflight } from "../lib/preflight.ts";
import { objectStoreCas } from "./objectStoreCa.ts";

/** The Host of each server, by name, in the topology's order. */
export type Hosts = ReadonlyMap<string, Host>;

/** The Host named `name` (the topology named it, so it exists). */
export function hostOf(hosts: Hosts, name: string): Host {
  return hosts.get(name)!;
}

export function buildHosts(pre: Preflight): Hosts {
  const { cfg, topo, privateKey, facts } = pre;
  const cas = objectStoreCas(pre);
  return new Map(topo.hosts.map((plan) => [plan.name, new Host(plan.name, {
    plan,
    config: cfg,
    facts: facts.get(plan.name)!,
    connection: pulumi.secret(pulumi.output(privateKey).apply((key) => ({
      host: plan.address, port: plan.port, user: plan.user, hostKey: plan.hostKey, privateKey: key,
    }))),
    firewall: (h) => new Firewall(`${plan.name}-firewall`, { host: h, openings: openingsFor(plan, topo, cfg) }).service,
    ...(cas.has(plan.name) ? { objectStoreCa: cas.get(plan.name)! } : {}),
  })]));
}
