//! The node's RPC: the standard Substrate methods plus OPG's own modules.
//!
//! `sc-service` already serves `chain_*`, `state_*`, `author_*`, `system_*` (network part)
//! and `rpc_methods`. [`create_full`] adds account nonces, fee queries, BABE's
//! `babe_epochAuthorship` (unsafe: the slots this node's keys claim in the current epoch)
//! and OPG's own jsonrpsee modules: [`inference`] (`inference_*`).

pub mod inference;

use inference::{Inference, InferenceRpcServer};
use jsonrpsee::RpcModule;
use opg_runtime::{opaque::Block, AccountId, Balance, Hash, Nonce};
use polkadot_sdk::{
	pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer},
	sc_consensus_babe::BabeWorkerHandle,
	sc_consensus_babe_rpc::{Babe, BabeApiServer},
	sc_transaction_pool_api::TransactionPool,
	sp_api::ProvideRuntimeApi,
	sp_block_builder::BlockBuilder,
	sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata},
	sp_consensus::SelectChain,
	sp_consensus_babe::BabeApi,
	sp_keystore::KeystorePtr,
	substrate_frame_rpc_system::{System, SystemApiServer},
};
use std::sync::Arc;

/// What the RPC modules need from the node.
pub struct FullDeps<C, P, SC> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// BABE's worker (epoch data), as the import queue started it.
	pub babe_worker: BabeWorkerHandle<Block>,
	/// The node's keystore (its BABE keys).
	pub keystore: KeystorePtr,
	/// The chain selection rule.
	pub select_chain: SC,
}

/// All RPC modules of a full node.
pub fn create_full<C, P, SC>(
	deps: FullDeps<C, P, SC>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>
		+ HeaderBackend<Block>
		+ HeaderMetadata<Block, Error = BlockChainError>
		+ Send
		+ Sync
		+ 'static,
	C::Api: polkadot_sdk::substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api:
		polkadot_sdk::pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	C::Api: inference::Api,
	C::Api: BabeApi<Block>,
	P: TransactionPool<Block = Block, Hash = Hash> + 'static,
	SC: SelectChain<Block> + Clone + 'static,
{
	let mut module = RpcModule::new(());
	let FullDeps { client, pool, babe_worker, keystore, select_chain } = deps;

	module.merge(System::new(client.clone(), pool.clone()).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(Babe::new(client.clone(), babe_worker, keystore, select_chain).into_rpc())?;
	module.merge(Inference::new(client, pool).into_rpc())?;

	Ok(module)
}
