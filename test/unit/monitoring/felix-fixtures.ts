/**
 * The /metrics answer of a real Felix v3.31.0 (calico-felix built like tools/build.sh's, iptables dataplane, in a
 * network namespace as node node-a-002 of the 3-node fixture of test/integration/monitoring-real.test.ts), read
 * through the API server's pod proxy once it had programmed iptables (seconds after start), on the 2-CPU test
 * machine at load average ~20. Kept: the
 * felix_* families, whole and unedited; dropped: the go_*, process_*, promhttp_* and goldmane_* families.
 * Capture again with `CALICO_TUNE_CAPTURE_FELIX=FILE` when running that test file.
 */
export const FELIX_METRICS_V331 = `# HELP felix_active_local_endpoints Number of active endpoints on this host.
# TYPE felix_active_local_endpoints gauge
felix_active_local_endpoints 3
# HELP felix_active_local_policies Number of active policies on this host.
# TYPE felix_active_local_policies gauge
felix_active_local_policies 0
# HELP felix_active_local_selectors Number of active selectors on this host.
# TYPE felix_active_local_selectors gauge
felix_active_local_selectors 0
# HELP felix_bpf_conntrack_cleaned Number of entries cleaned during a conntrack table sweep
# TYPE felix_bpf_conntrack_cleaned gauge
felix_bpf_conntrack_cleaned 0
# HELP felix_bpf_conntrack_cleaned_total Total number of entries cleaned during conntrack table sweeps, incremented for each clean individualy
# TYPE felix_bpf_conntrack_cleaned_total gauge
felix_bpf_conntrack_cleaned_total 0
# HELP felix_bpf_conntrack_expired Number of entries cleaned during a conntrack table sweep due to expiration
# TYPE felix_bpf_conntrack_expired gauge
felix_bpf_conntrack_expired 0
# HELP felix_bpf_conntrack_inforeader_blocks Conntrack InfoReader blocks
# TYPE felix_bpf_conntrack_inforeader_blocks counter
felix_bpf_conntrack_inforeader_blocks 0
# HELP felix_bpf_conntrack_stale_nat Number of entries cleaned during a conntrack table sweep due to stale NAT
# TYPE felix_bpf_conntrack_stale_nat gauge
felix_bpf_conntrack_stale_nat 0
# HELP felix_bpf_conntrack_stale_nat_total Total number of entries cleaned during conntrack table sweeps due to stale NAT
# TYPE felix_bpf_conntrack_stale_nat_total counter
felix_bpf_conntrack_stale_nat_total 0
# HELP felix_bpf_conntrack_sweep_duration Conntrack sweep execution time (ns)
# TYPE felix_bpf_conntrack_sweep_duration gauge
felix_bpf_conntrack_sweep_duration 0
# HELP felix_bpf_conntrack_sweeps Number of contrack table sweeps made so far
# TYPE felix_bpf_conntrack_sweeps counter
felix_bpf_conntrack_sweeps 0
# HELP felix_bpf_conntrack_used Number of used entries visited during a conntrack table sweep
# TYPE felix_bpf_conntrack_used gauge
felix_bpf_conntrack_used 0
# HELP felix_bpf_dataplane_endpoints Number of BPF endpoints managed in the dataplane.
# TYPE felix_bpf_dataplane_endpoints gauge
felix_bpf_dataplane_endpoints 0
# HELP felix_bpf_dirty_dataplane_endpoints Number of BPF endpoints managed in the dataplane that are left dirty after a failure.
# TYPE felix_bpf_dirty_dataplane_endpoints gauge
felix_bpf_dirty_dataplane_endpoints 0
# HELP felix_bpf_events_collector_blocks CollectorPolicyListener blocks
# TYPE felix_bpf_events_collector_blocks counter
felix_bpf_events_collector_blocks 0
# HELP felix_bpf_happy_dataplane_endpoints Number of BPF endpoints that are successfully programmed.
# TYPE felix_bpf_happy_dataplane_endpoints gauge
felix_bpf_happy_dataplane_endpoints 0
# HELP felix_bpf_num_ip_sets Number of BPF IP sets managed in the dataplane.
# TYPE felix_bpf_num_ip_sets gauge
felix_bpf_num_ip_sets 0
# HELP felix_calc_graph_output_events Number of events emitted by the calculation graph.
# TYPE felix_calc_graph_output_events counter
felix_calc_graph_output_events 22
# HELP felix_calc_graph_update_time_seconds Seconds to update calculation graph for each datastore OnUpdate call.
# TYPE felix_calc_graph_update_time_seconds summary
felix_calc_graph_update_time_seconds{quantile="0.5"} 6.83e-06
felix_calc_graph_update_time_seconds{quantile="0.9"} 3.5263e-05
felix_calc_graph_update_time_seconds{quantile="0.99"} 0.029044342
felix_calc_graph_update_time_seconds_sum 0.029644142000000002
felix_calc_graph_update_time_seconds_count 46
# HELP felix_calc_graph_updates_processed Number of datastore updates processed by the calculation graph.
# TYPE felix_calc_graph_updates_processed counter
felix_calc_graph_updates_processed{type="GlobalConfigKey"} 6
felix_calc_graph_updates_processed{type="HostConfigKey"} 3
felix_calc_graph_updates_processed{type="HostIPKey"} 3
felix_calc_graph_updates_processed{type="IPPoolKey"} 1
felix_calc_graph_updates_processed{type="ProfileLabelsKey"} 6
felix_calc_graph_updates_processed{type="ProfileRulesKey"} 7
felix_calc_graph_updates_processed{type="ReadyFlagKey"} 1
felix_calc_graph_updates_processed{type="ResourceKey"} 13
felix_calc_graph_updates_processed{type="TierKey"} 3
felix_calc_graph_updates_processed{type="WorkloadEndpointKey"} 3
# HELP felix_cluster_num_host_endpoints Total number of host endpoints cluster-wide.
# TYPE felix_cluster_num_host_endpoints gauge
felix_cluster_num_host_endpoints 0
# HELP felix_cluster_num_hosts Total number of calico hosts in the cluster.
# TYPE felix_cluster_num_hosts gauge
felix_cluster_num_hosts 3
# HELP felix_cluster_num_policies Total number of policies cluster-wide.
# TYPE felix_cluster_num_policies gauge
felix_cluster_num_policies 0
# HELP felix_cluster_num_profiles Total number of profiles cluster-wide.
# TYPE felix_cluster_num_profiles gauge
felix_cluster_num_profiles 7
# HELP felix_cluster_num_tiers Total number of tiers cluster-wide.
# TYPE felix_cluster_num_tiers gauge
felix_cluster_num_tiers 3
# HELP felix_cluster_num_workload_endpoints Total number of workload endpoints cluster-wide.
# TYPE felix_cluster_num_workload_endpoints gauge
felix_cluster_num_workload_endpoints 3
# HELP felix_collector_conntrack_processing_latency_seconds Histogram for measuring the latency of Conntrack processing.
# TYPE felix_collector_conntrack_processing_latency_seconds histogram
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.005"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.01"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.025"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.05"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.1"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.25"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="0.5"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="1"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="2.5"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="5"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="10"} 0
felix_collector_conntrack_processing_latency_seconds_bucket{le="+Inf"} 0
felix_collector_conntrack_processing_latency_seconds_sum 0
felix_collector_conntrack_processing_latency_seconds_count 0
# HELP felix_collector_dataplanestats_update_processing_errors_per_minute Number of errors encountered when processing merging the proto.DataplaneStatistics to the current data cache.
# TYPE felix_collector_dataplanestats_update_processing_errors_per_minute gauge
felix_collector_dataplanestats_update_processing_errors_per_minute 0
# HELP felix_collector_dataplanestats_update_processing_latency_seconds Histogram for measuring latency for processing merging the proto.DataplaneStatistics to the current data cache.
# TYPE felix_collector_dataplanestats_update_processing_latency_seconds histogram
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.005"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.01"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.025"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.05"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.1"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.25"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="0.5"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="1"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="2.5"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="5"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="10"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_bucket{le="+Inf"} 0
felix_collector_dataplanestats_update_processing_latency_seconds_sum 0
felix_collector_dataplanestats_update_processing_latency_seconds_count 0
# HELP felix_collector_dumpstats_latency_seconds Histogram for measuring latency for processing cached stats to stats file in config.StatsDumpFilePath.
# TYPE felix_collector_dumpstats_latency_seconds histogram
felix_collector_dumpstats_latency_seconds_bucket{le="0.005"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="0.01"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="0.025"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="0.05"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="0.1"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="0.25"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="0.5"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="1"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="2.5"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="5"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="10"} 0
felix_collector_dumpstats_latency_seconds_bucket{le="+Inf"} 0
felix_collector_dumpstats_latency_seconds_sum 0
felix_collector_dumpstats_latency_seconds_count 0
# HELP felix_collector_epstats Total number of entries currently residing in the epStats cache.
# TYPE felix_collector_epstats gauge
felix_collector_epstats 0
# HELP felix_collector_lookupcache_endpoints Total number of entries currently residing in the endpoints lookup cache.
# TYPE felix_collector_lookupcache_endpoints gauge
felix_collector_lookupcache_endpoints 0
# HELP felix_collector_lookupcache_networksets Total number of entries currently residing in the network set lookup cache.
# TYPE felix_collector_lookupcache_networksets gauge
felix_collector_lookupcache_networksets 0
# HELP felix_collector_lookupcache_services Total number of entries currently residing in the services lookup cache.
# TYPE felix_collector_lookupcache_services gauge
felix_collector_lookupcache_services 0
# HELP felix_exec_time_micros Summary of time taken to fork/exec child processes
# TYPE felix_exec_time_micros summary
felix_exec_time_micros{quantile="0.5"} 12132.465
felix_exec_time_micros{quantile="0.9"} 13375.83
felix_exec_time_micros{quantile="0.99"} 13375.83
felix_exec_time_micros_sum 25508.295
felix_exec_time_micros_count 2
# HELP felix_host Configured Felix hostname (as a label), typically used in grouping/aggregating stats; the label defaults to the hostname of the host but can be overridden by configuration. The value of the gauge is always set to 1.
# TYPE felix_host gauge
felix_host{host="node-a-002"} 1
# HELP felix_int_dataplane_addr_msg_batch_size Number of interface address messages processed in each batch. Higher values indicate we're doing more batching to try to keep up.
# TYPE felix_int_dataplane_addr_msg_batch_size summary
felix_int_dataplane_addr_msg_batch_size{quantile="0.5"} 1
felix_int_dataplane_addr_msg_batch_size{quantile="0.9"} 2
felix_int_dataplane_addr_msg_batch_size{quantile="0.99"} 2
felix_int_dataplane_addr_msg_batch_size_sum 3
felix_int_dataplane_addr_msg_batch_size_count 2
# HELP felix_int_dataplane_apply_time_seconds Time in seconds for each incremental update to the dataplane (after the initial resync).
# TYPE felix_int_dataplane_apply_time_seconds summary
felix_int_dataplane_apply_time_seconds{quantile="0.5"} 0.08302819
felix_int_dataplane_apply_time_seconds{quantile="0.9"} 0.08302819
felix_int_dataplane_apply_time_seconds{quantile="0.99"} 0.08302819
felix_int_dataplane_apply_time_seconds_sum 0.08302819
felix_int_dataplane_apply_time_seconds_count 1
# HELP felix_int_dataplane_failures Number of times dataplane updates failed and will be retried.
# TYPE felix_int_dataplane_failures counter
felix_int_dataplane_failures 0
# HELP felix_int_dataplane_iface_msg_batch_size Number of interface state messages processed in each batch. Higher values indicate we're doing more batching to try to keep up.
# TYPE felix_int_dataplane_iface_msg_batch_size summary
felix_int_dataplane_iface_msg_batch_size{quantile="0.5"} 2
felix_int_dataplane_iface_msg_batch_size{quantile="0.9"} 2
felix_int_dataplane_iface_msg_batch_size{quantile="0.99"} 2
felix_int_dataplane_iface_msg_batch_size_sum 2
felix_int_dataplane_iface_msg_batch_size_count 1
# HELP felix_int_dataplane_initial_resync_time_seconds Time in seconds that it took to do the initial resync with the dataplane and bring the dataplane into sync for the first time.
# TYPE felix_int_dataplane_initial_resync_time_seconds gauge
felix_int_dataplane_initial_resync_time_seconds 0.421033171
# HELP felix_int_dataplane_messages Number dataplane messages by type.
# TYPE felix_int_dataplane_messages counter
felix_int_dataplane_messages{type="ActiveProfileUpdate"} 2
felix_int_dataplane_messages{type="ConfigUpdate"} 1
felix_int_dataplane_messages{type="Encapsulation"} 1
felix_int_dataplane_messages{type="GlobalBGPConfigUpdate"} 1
felix_int_dataplane_messages{type="HostMetadataUpdate"} 3
felix_int_dataplane_messages{type="HostMetadataV4V6Update"} 3
felix_int_dataplane_messages{type="IPAMPoolUpdate"} 1
felix_int_dataplane_messages{type="InSync"} 1
felix_int_dataplane_messages{type="NamespaceUpdate"} 6
felix_int_dataplane_messages{type="ServiceUpdate"} 1
felix_int_dataplane_messages{type="WorkloadEndpointUpdate"} 3
# HELP felix_int_dataplane_msg_batch_size Number of messages processed in each batch. Higher values indicate we're doing more batching to try to keep up.
# TYPE felix_int_dataplane_msg_batch_size summary
felix_int_dataplane_msg_batch_size{quantile="0.5"} 2
felix_int_dataplane_msg_batch_size{quantile="0.9"} 7
felix_int_dataplane_msg_batch_size{quantile="0.99"} 7
felix_int_dataplane_msg_batch_size_sum 33
felix_int_dataplane_msg_batch_size_count 10
# HELP felix_ipset_calls Number of ipset commands executed.
# TYPE felix_ipset_calls counter
felix_ipset_calls 1
# HELP felix_ipset_errors Number of ipset command failures.
# TYPE felix_ipset_errors counter
felix_ipset_errors 0
# HELP felix_ipset_lines_executed Number of ipset operations executed.
# TYPE felix_ipset_lines_executed counter
felix_ipset_lines_executed 13
# HELP felix_ipsets_calico Number of active Calico IP sets.
# TYPE felix_ipsets_calico gauge
felix_ipsets_calico{ip_version="inet"} 5
# HELP felix_ipsets_total Total number of active IP sets.
# TYPE felix_ipsets_total gauge
felix_ipsets_total 5
# HELP felix_iptables_chains Number of active iptables chains.
# TYPE felix_iptables_chains gauge
felix_iptables_chains{ip_version="4",table="filter"} 22
felix_iptables_chains{ip_version="4",table="mangle"} 10
felix_iptables_chains{ip_version="4",table="nat"} 10
felix_iptables_chains{ip_version="4",table="raw"} 7
felix_iptables_chains{ip_version="6",table="filter"} 0
# HELP felix_iptables_lines_executed Number of iptables rule updates executed.
# TYPE felix_iptables_lines_executed counter
felix_iptables_lines_executed{ip_version="4",table="filter"} 99
felix_iptables_lines_executed{ip_version="4",table="mangle"} 18
felix_iptables_lines_executed{ip_version="4",table="nat"} 17
felix_iptables_lines_executed{ip_version="4",table="raw"} 18
felix_iptables_lines_executed{ip_version="6",table="filter"} 0
# HELP felix_iptables_lock_acquire_secs Time in seconds that it took to acquire the iptables lock(s).
# TYPE felix_iptables_lock_acquire_secs summary
felix_iptables_lock_acquire_secs{quantile="0.5"} NaN
felix_iptables_lock_acquire_secs{quantile="0.9"} NaN
felix_iptables_lock_acquire_secs{quantile="0.99"} NaN
felix_iptables_lock_acquire_secs_sum 0
felix_iptables_lock_acquire_secs_count 0
# HELP felix_iptables_lock_retries Number of times the iptables lock was held by someone else and we had to retry.
# TYPE felix_iptables_lock_retries counter
felix_iptables_lock_retries{version="1.4"} 0
felix_iptables_lock_retries{version="1.6"} 0
# HELP felix_iptables_restore_calls Number of iptables-restore calls.
# TYPE felix_iptables_restore_calls counter
felix_iptables_restore_calls 4
# HELP felix_iptables_restore_errors Number of iptables-restore errors.
# TYPE felix_iptables_restore_errors counter
felix_iptables_restore_errors 0
# HELP felix_iptables_rules Number of active iptables rules.
# TYPE felix_iptables_rules gauge
felix_iptables_rules{ip_version="4",table="filter"} 78
felix_iptables_rules{ip_version="4",table="mangle"} 11
felix_iptables_rules{ip_version="4",table="nat"} 9
felix_iptables_rules{ip_version="4",table="raw"} 11
felix_iptables_rules{ip_version="6",table="filter"} 0
# HELP felix_iptables_save_calls Number of iptables-save calls.
# TYPE felix_iptables_save_calls counter
felix_iptables_save_calls 4
# HELP felix_iptables_save_errors Number of iptables-save errors.
# TYPE felix_iptables_save_errors counter
felix_iptables_save_errors 0
# HELP felix_label_index_num_active_selectors Total number of active selectors in the policy rule label index.
# TYPE felix_label_index_num_active_selectors gauge
felix_label_index_num_active_selectors{optimized="false"} 0
felix_label_index_num_active_selectors{optimized="true"} 0
# HELP felix_label_index_num_endpoints Total number of endpoints and similar objects in the index.
# TYPE felix_label_index_num_endpoints gauge
felix_label_index_num_endpoints 3
# HELP felix_label_index_selector_evals Total number of selector evaluations.
# TYPE felix_label_index_selector_evals counter
felix_label_index_selector_evals{result="false"} 0
felix_label_index_selector_evals{result="true"} 0
# HELP felix_log_errors Number of errors encountered while logging.
# TYPE felix_log_errors counter
felix_log_errors 46
# HELP felix_logs_dropped Number of logs dropped because the output stream was blocked.
# TYPE felix_logs_dropped counter
felix_logs_dropped 0
# HELP felix_nft_calls Number of nft rule write transactions.
# TYPE felix_nft_calls counter
felix_nft_calls 0
# HELP felix_nft_chains Number of active nft chains in the Calico table.
# TYPE felix_nft_chains gauge
felix_nft_chains{ip_version="4"} 0
felix_nft_chains{ip_version="6"} 0
# HELP felix_nft_errors Number of nft errors when writing rules.
# TYPE felix_nft_errors counter
felix_nft_errors 0
# HELP felix_nft_list_calls Number of nft list calls.
# TYPE felix_nft_list_calls counter
felix_nft_list_calls 2
# HELP felix_nft_list_errors Number of nft list errors.
# TYPE felix_nft_list_errors counter
felix_nft_list_errors 0
# HELP felix_nft_rules Number of active nftables rules in the Calico table.
# TYPE felix_nft_rules gauge
felix_nft_rules{ip_version="4"} 0
felix_nft_rules{ip_version="6"} 0
# HELP felix_nft_set_calls Number of nftables set transactions executed.
# TYPE felix_nft_set_calls counter
felix_nft_set_calls 0
# HELP felix_nft_set_errors Number of nftables set transaction failures.
# TYPE felix_nft_set_errors counter
felix_nft_set_errors 0
# HELP felix_nft_sets Number of active Calico nftables sets.
# TYPE felix_nft_sets gauge
felix_nft_sets{ip_version="inet"} 0
felix_nft_sets{ip_version="inet6"} 0
# HELP felix_resync_state Current datastore state.
# TYPE felix_resync_state gauge
felix_resync_state 3
# HELP felix_resyncs_started Current datastore state.
# TYPE felix_resyncs_started counter
felix_resyncs_started 1
# HELP felix_route_table_conntrack_wait_seconds Time waiting for conntrack cleanups to finish.
# TYPE felix_route_table_conntrack_wait_seconds summary
felix_route_table_conntrack_wait_seconds{quantile="0.5"} NaN
felix_route_table_conntrack_wait_seconds{quantile="0.9"} NaN
felix_route_table_conntrack_wait_seconds{quantile="0.99"} NaN
felix_route_table_conntrack_wait_seconds_sum 0
felix_route_table_conntrack_wait_seconds_count 0
# HELP felix_route_table_num_ifaces Number of interfaces that Felix is monitoring for the particular routing table.
# TYPE felix_route_table_num_ifaces gauge
felix_route_table_num_ifaces{table="IPv4:1"} 0
felix_route_table_num_ifaces{table="IPv4:254"} 2
# HELP felix_route_table_num_routes Number of routes that Felix is managing in the particular routing table.
# TYPE felix_route_table_num_routes gauge
felix_route_table_num_routes{table="IPv4:1"} 0
felix_route_table_num_routes{table="IPv4:254"} 0
# HELP felix_route_table_partial_resync_seconds Time taken to resync the routes of a single interface.
# TYPE felix_route_table_partial_resync_seconds summary
felix_route_table_partial_resync_seconds{quantile="0.5"} NaN
felix_route_table_partial_resync_seconds{quantile="0.9"} NaN
felix_route_table_partial_resync_seconds{quantile="0.99"} NaN
felix_route_table_partial_resync_seconds_sum 0
felix_route_table_partial_resync_seconds_count 0
# HELP felix_route_table_resync_seconds Time taken to list all the routes during a resync.
# TYPE felix_route_table_resync_seconds summary
felix_route_table_resync_seconds{quantile="0.5"} 0.000122943
felix_route_table_resync_seconds{quantile="0.9"} 0.000269352
felix_route_table_resync_seconds{quantile="0.99"} 0.000269352
felix_route_table_resync_seconds_sum 0.00039229499999999997
felix_route_table_resync_seconds_count 2
`;
