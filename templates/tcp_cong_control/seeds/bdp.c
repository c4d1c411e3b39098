// BDP-based: two bandwidth-delay products, and slow start until the estimate exists.
return hist.bdp_pkts > 0 ? 2 * hist.bdp_pkts : tp.cwnd + rs.acked_sacked;
