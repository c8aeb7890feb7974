/** /etc/rabbitmq/rabbitmq.conf: RabbitMQ's AMQP listeners, one per address. */

/** Options for {@link renderRabbitmqConf}. */
export interface RabbitmqConfOptions {
  /** Addresses the AMQP listeners bind to (plan/listen.ts: loopback, and the private address for clients elsewhere). */
  readonly listenAddresses: readonly string[];
  /** AMQP port. */
  readonly port: number;
}

export function renderRabbitmqConf(o: RabbitmqConfOptions): string {
  return `# Managed by django-fleet (pulumi).\n${o.listenAddresses.map((a, i) => `listeners.tcp.${i + 1} = ${a}:${o.port}`).join("\n")}\n`;
}
