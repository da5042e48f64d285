//! See `tests/network.rs`: this crate only carries the zombienet network test.
