//! Four validators of the `local_testnet` preset, spawned by zombienet-sdk's native
//! provider on loopback: they finalize together, and keep finalizing after one of them
//! is killed (3 of 4 is above GRANDPA's 2/3 threshold).
//!
//! Needs `OPG_NODE_BIN` (the built `opg-node`); `./scripts/test --network` sets it.

use std::{path::PathBuf, process::Command, time::Instant};

use anyhow::{ensure, Context, Result};
use zombienet_sdk::{NetworkConfig, NetworkConfigBuilder, NetworkConfigExt, NetworkNode};

const FINALIZED: &str = "block_height{status=\"finalized\"}";
const VALIDATORS: [&str; 4] = ["alice", "bob", "charlie", "dave"];

/// Writes the raw `local` chain spec exported by the node itself.
///
/// A raw spec, because zombienet leaves a raw spec as it is; from a plain one it would
/// generate relay-chain session keys that OPG's `SessionKeys { babe, grandpa }` rejects.
/// Each validator gets its dev keys from its `--alice`.. flag instead.
fn raw_chain_spec(node_bin: &str, dir: &std::path::Path) -> Result<PathBuf> {
	let path = dir.join("opg-local-raw.json");
	let output = Command::new(node_bin)
		.args(["export-chain-spec", "--chain", "local", "--raw", "--output"])
		.arg(&path)
		.output()
		.with_context(|| format!("running {node_bin} export-chain-spec"))?;
	ensure!(
		output.status.success(),
		"export-chain-spec failed: {}",
		String::from_utf8_lossy(&output.stderr)
	);
	Ok(path)
}

fn four_validators(node_bin: &str, chain_spec: &std::path::Path) -> Result<NetworkConfig> {
	let chain_spec = chain_spec.to_str().context("chain spec path is not UTF-8")?.to_owned();
	NetworkConfigBuilder::new()
		.with_relaychain(|relay| {
			let mut relay = relay
				.with_chain("local_testnet")
				.with_default_command(node_bin)
				.with_chain_spec_path(chain_spec.as_str())
				.with_validator(|node| node.with_name("alice").with_args(vec!["--alice".into()]));
			for name in &VALIDATORS[1..] {
				relay = relay.with_validator(|node| {
					node.with_name(*name).with_args(vec![format!("--{name}").as_str().into()])
				});
			}
			relay
		})
		// Killing a validator is the point of the test: without this, zombienet's node
		// monitor tears the whole network down when one node stops answering.
		.with_global_settings(|settings| settings.with_tear_down_on_failure(false))
		.build()
		.map_err(|errors| anyhow::anyhow!("network config: {errors:?}"))
}

async fn finalized(node: &NetworkNode) -> Result<u64> {
	Ok(node.reports(FINALIZED).await? as u64)
}

#[tokio::test(flavor = "multi_thread")]
async fn four_validators_finalize_and_survive_one_killed() -> Result<()> {
	let node_bin = std::env::var("OPG_NODE_BIN")
		.context("set OPG_NODE_BIN to the built opg-node (./scripts/test --network does)")?;
	let work = std::env::temp_dir().join(format!("opg-zombienet-{}", std::process::id()));
	std::fs::create_dir_all(&work)?;
	let spec = raw_chain_spec(&node_bin, &work)?;

	let started = Instant::now();
	let network = four_validators(&node_bin, &spec)?.spawn_native().await?;
	network.wait_until_is_up(60).await?;
	println!("network up in {:.1?}", started.elapsed());

	for name in VALIDATORS {
		network
			.get_node(name)?
			.wait_metric_with_timeout(FINALIZED, |h| h >= 3.0, 180u64)
			.await?;
	}
	println!("all four validators finalized block 3 after {:.1?}", started.elapsed());

	let dave = network.get_node("dave")?;
	dave.core().inner().destroy().await?;
	ensure!(finalized(dave).await.is_err(), "dave still answers after being killed");
	let bob = network.get_node("bob")?;
	let before = finalized(bob).await?;
	let target = before + 4;
	bob.wait_metric_with_timeout(FINALIZED, move |h| h >= target as f64, 180u64)
		.await?;
	println!(
		"with dave killed, bob finalized {before} -> {} after {:.1?}",
		finalized(bob).await?,
		started.elapsed()
	);

	network.destroy().await?;
	std::fs::remove_dir_all(&work)?;
	Ok(())
}
