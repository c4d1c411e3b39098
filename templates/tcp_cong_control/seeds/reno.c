// Reno-like AIMD: one packet per window of ACKs, halve on loss.
return rs.losses > 0 ? ps_div(tp.cwnd, 2) : tp.cwnd + ps_div(rs.acked_sacked * 2, ps_max(tp.cwnd, 1)) + (tp.cwnd < tp.ssthresh ? rs.acked_sacked : 0);
