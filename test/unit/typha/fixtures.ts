/** Typha `/metrics` texts as Typha serves them (trimmed of most go_* / process_* noise). */

/** Calico v3.31: per-syncer streaming gauges and client-latency summaries with quantiles. */
export const TYPHA_METRICS_V331 = `# HELP go_goroutines Number of goroutines that currently exist.
# TYPE go_goroutines gauge
go_goroutines 212
# HELP typha_breadcrumb_seq_number Current (server-local) sequence number; number of snapshot deltas processed.
# TYPE typha_breadcrumb_seq_number gauge
typha_breadcrumb_seq_number{syncer="felix"} 48213
# HELP typha_client_latency_secs Per-client latency.  I.e. how far behind the current state is each client.
# TYPE typha_client_latency_secs summary
typha_client_latency_secs{syncer="bgp",quantile="0.5"} 0.0009
typha_client_latency_secs{syncer="bgp",quantile="0.9"} 0.003
typha_client_latency_secs{syncer="bgp",quantile="0.99"} 0.012
typha_client_latency_secs_sum{syncer="bgp"} 0.5
typha_client_latency_secs_count{syncer="bgp"} 500
typha_client_latency_secs{syncer="felix",quantile="0.5"} 0.0012
typha_client_latency_secs{syncer="felix",quantile="0.9"} 0.004
typha_client_latency_secs{syncer="felix",quantile="0.99"} 0.021
typha_client_latency_secs_sum{syncer="felix"} 1.5
typha_client_latency_secs_count{syncer="felix"} 1000
# HELP typha_connections_accepted Total number of connections accepted over time.
# TYPE typha_connections_accepted counter
typha_connections_accepted 412
# HELP typha_connections_active Number of open client connections (including connections that have not completed the handshake).
# TYPE typha_connections_active gauge
typha_connections_active 200
# HELP typha_connections_dropped Total number of connections dropped due to rebalancing.
# TYPE typha_connections_dropped counter
typha_connections_dropped 3
# HELP typha_connections_streaming Number of client connections that are actively streaming.
# TYPE typha_connections_streaming gauge
typha_connections_streaming{syncer="bgp"} 50
typha_connections_streaming{syncer="felix"} 50
typha_connections_streaming{syncer="node-status"} 50
typha_connections_streaming{syncer="tunnel-ip-allocation"} 49
# HELP process_resident_memory_bytes Resident memory size in bytes.
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes 8.4869120e+07
`;

/** An older Typha: no streaming gauge, a latency summary without quantiles (only _sum and _count). */
export const TYPHA_METRICS_OLD = `# HELP typha_client_latency_secs Per-client latency.  I.e. how far behind the current state is each client.
# TYPE typha_client_latency_secs summary
typha_client_latency_secs_sum 2.5
typha_client_latency_secs_count 1000
# HELP typha_connections_active Number of open client connections.
# TYPE typha_connections_active gauge
typha_connections_active 37
# HELP typha_connections_dropped Total number of connections dropped due to rebalancing.
# TYPE typha_connections_dropped counter
typha_connections_dropped 0
`;

/** Felix's metrics, as a wrong port would return them. */
export const FELIX_METRICS = `# TYPE felix_active_local_endpoints gauge
felix_active_local_endpoints 12
`;
