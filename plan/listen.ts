/**
 * Where each server listens, and how the others reach it: the rules every shared service
 * follows (PostgreSQL, MariaDB, RabbitMQ, Redis, memcached), gunicorn's bind address
 * beside a load balancer, the upstreams nginx proxies to, and the senders the log server
 * accepts. Pure: hosts in, addresses out.
 */
import type { HostPlan, Topology } from "../config/topology.ts";

/** The loopback address as a service's config spells it (PostgreSQL says `localhost`). */
export type Loopback = "127.0.0.1" | "localhost";

/**
 * A server's listen addresses: loopback, and its private address too when a client runs
 * on another host; loopback alone when every client is on this one (nothing to open).
 */
export function listenAddresses(server: HostPlan, clients: readonly HostPlan[], loopback: Loopback = "127.0.0.1"): string[] {
  return clients.some((c) => c.name !== server.name) ? [loopback, server.privateAddress] : [loopback];
}

/**
 * Where an app node's gunicorn binds: loopback when the load balancer shares its host
 * (nginx reaches it there, and nothing else can), else its private address (the load
 * balancer's firewall opening lets only the load balancer in).
 */
export function gunicornBindAddress(node: HostPlan, topo: Pick<Topology, "loadBalancer">): string {
  return topo.loadBalancer?.name === node.name ? "127.0.0.1" : node.privateAddress;
}

/** Where the load balancer reaches a node that binds to `bindAddress`. */
export function upstreamAddress(node: HostPlan, bindAddress: string): string {
  return bindAddress === "127.0.0.1" ? "127.0.0.1" : node.privateAddress;
}

/** One app node as nginx's upstream lists it. */
export interface Upstream {
  /** The node's host. */
  readonly host: string;
  /** Where nginx connects. */
  readonly address: string;
  /** The app's port. */
  readonly port: number;
}

/** An app's upstreams: each app node, in the order of its app hosts. */
export function upstreamsOf(appHosts: readonly HostPlan[], port: number, topo: Pick<Topology, "loadBalancer">): Upstream[] {
  return appHosts.map((h) => ({ host: h.name, address: upstreamAddress(h, gunicornBindAddress(h, topo)), port }));
}

/** The addresses the log server accepts lines from: loopback, then every host's private address, once each. */
export function logSenders(hosts: readonly HostPlan[]): string[] {
  return [...new Set(["127.0.0.1", ...hosts.map((h) => h.privateAddress)])];
}
