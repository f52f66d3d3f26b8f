/** Counters and gauges of this instance, in the Prometheus text format. */
export class Metrics {
  messagesAccepted = 0;
  messagesDelivered = 0;
  slowConsumersDropped = 0;
  magicLinks = { requested: 0, sent: 0, refused: 0, failed: 0 };
  private authFailures = new Map<string, number>();

  constructor(private gauges: () => { connections: number; users: number }) {}

  authFailure(reason: string): void {
    this.authFailures.set(reason, (this.authFailures.get(reason) ?? 0) + 1);
  }

  render(): string {
    const { connections, users } = this.gauges();
    const lines = [
      "# HELP roomz_connections_open Open WebSocket connections on this instance.",
      "# TYPE roomz_connections_open gauge",
      `roomz_connections_open ${connections}`,
      "# HELP roomz_users_connected Users with at least one open connection on this instance.",
      "# TYPE roomz_users_connected gauge",
      `roomz_users_connected ${users}`,
      "# HELP roomz_messages_accepted_total Messages stored and acknowledged.",
      "# TYPE roomz_messages_accepted_total counter",
      `roomz_messages_accepted_total ${this.messagesAccepted}`,
      "# HELP roomz_messages_delivered_total Message frames handed to connections.",
      "# TYPE roomz_messages_delivered_total counter",
      `roomz_messages_delivered_total ${this.messagesDelivered}`,
      "# HELP roomz_magic_links_total Magic links by outcome.",
      "# TYPE roomz_magic_links_total counter",
      ...Object.entries(this.magicLinks).map(([result, n]) => `roomz_magic_links_total{result="${result}"} ${n}`),
      "# HELP roomz_auth_failures_total Refused sign-ins and sessions by reason.",
      "# TYPE roomz_auth_failures_total counter",
      ...[...this.authFailures].map(([reason, n]) => `roomz_auth_failures_total{reason="${reason}"} ${n}`),
      "# HELP roomz_slow_consumers_dropped_total Connections closed (4008) for not keeping up.",
      "# TYPE roomz_slow_consumers_dropped_total counter",
      `roomz_slow_consumers_dropped_total ${this.slowConsumersDropped}`,
    ];
    return lines.join("\n") + "\n";
  }
}
