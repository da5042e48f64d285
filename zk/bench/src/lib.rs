//! See `benches/zk.rs`.
