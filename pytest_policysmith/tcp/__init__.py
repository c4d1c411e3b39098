"""The TCP congestion-control domain: BPF struct_ops controllers raced on an emulated link."""
