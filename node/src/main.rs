//! `opg-node`: the OPG chain's validator and RPC node.

// The node's functions return polkadot-sdk's own error types (`sc_cli::Error`,
// `sc_service::Error`) through the SDK's `Runner`, which takes them by value; their size is
// the SDK's choice, not ours to box.
#![allow(
	clippy::result_large_err,
	reason = "polkadot-sdk's error types, returned as the SDK's API takes them"
)]

mod attestation;
mod chain_spec;
mod cli;
mod command;
mod rpc;
mod service;

fn main() -> polkadot_sdk::sc_cli::Result<()> {
	command::run()
}
