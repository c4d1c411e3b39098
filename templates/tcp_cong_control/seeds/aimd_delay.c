// AIMD with a delay trigger: back off on loss or on a queue above half the base RTT.
return rs.losses > 0 || hist.queue_delay_us > ps_div(hist.min_rtt_us, 2) ? ps_div(tp.cwnd * 3, 4) : tp.cwnd + ps_div(rs.acked_sacked, ps_max(ps_div(tp.cwnd, 4), 1));
