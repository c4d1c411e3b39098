// Delay-based (Vegas-like): grow while the queueing delay is small, shrink when it builds.
return hist.queue_delay_us < ps_div(hist.min_rtt_us, 4) ? tp.cwnd + 1 : tp.cwnd - 1;
