/* bench_conn.h: the connection layer's cost against the datagram requests.
 *
 * Workload CR(N, R): N nodes on constant 1 ms links; every node is a
 * client that keeps 4 requests outstanding (1000 bytes out, 500 back),
 * each to the next node in turn, until R requests have completed in all;
 * servers answer at once.  It runs once over sim_conn (pooled connections,
 * 2 per route) and once over sim_rpc_call, in the same invocation, and
 * prints both event rates and their ratio. */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

/* `distrosim bench conn [N R]`: prints a RESULT line; returns the process
 * exit status. */
int bench_conn_main(int argc, char **argv);

#endif
