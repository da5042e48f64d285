//! The off-chain worker: a node settles the channels its executor served calls on.
//!
//! After each imported block, when the node's executor holds a node key (its public key
//! under `opg_executor_api::offchain_keys::NODE_KEY`, set by `opg-node
//! --executor-node-key`), the worker asks the executor at the URL under
//! `offchain_keys::URL` for its settlements (`POST {url}/v1/channel-settlements?genesis=`),
//! one per channel with calls served and not yet claimed: the charged total, the latest
//! voucher and the node key's signature over both and the root of those calls. Each is checked here as the runtime will
//! check it and submitted as one unsigned [`Call::settle`]; the executor drops its
//! receipts once the chain shows them claimed.

use super::*;
use alloc::{format, string::String, vec::Vec};
use codec::Decode;
use frame_system::offchain::{CreateBare, SubmitTransaction};
use opg_executor_api as api;
use sp_runtime::{
	offchain::{
		http,
		storage_lock::{StorageLock, Time},
		Duration, StorageKind,
	},
	traits::UniqueSaturatedInto,
};

/// Time the executor has to answer.
const EXECUTOR_TIMEOUT_MS: u64 = 5_000;
/// The largest answer read: offers are ~250 bytes each.
const MAX_ANSWER: usize = 4 << 20;
/// Offchain storage key of the lock that keeps worker runs from overlapping.
const LOCK_KEY: &[u8] = b"opg::channels::worker-lock";
const LOG_TARGET: &str = "runtime::channels";

impl<T: Config> Pallet<T> {
	/// Submits the settlements the node's executor offers.
	pub(crate) fn settle_from_executor() {
		let local = |key| sp_io::offchain::local_storage_get(StorageKind::PERSISTENT, key);
		if local(api::offchain_keys::NODE_KEY).is_none() {
			return;
		}
		let Some(url) = local(api::offchain_keys::URL).and_then(|url| String::from_utf8(url).ok())
		else {
			return;
		};
		let url = url.trim_end_matches('/');
		let mut lock = StorageLock::<Time>::with_deadline(
			LOCK_KEY,
			Duration::from_millis(2 * EXECUTOR_TIMEOUT_MS),
		);
		let Ok(_guard) = lock.try_lock() else { return };
		let Ok(genesis) = Self::genesis_hash() else { return };
		let token =
			local(api::offchain_keys::TOKEN).and_then(|token| String::from_utf8(token).ok());
		let offers = match Self::executor_offers(url, &genesis, token.as_deref()) {
			Ok(offers) => offers,
			Err(reason) => {
				log::debug!(target: LOG_TARGET, "no channel settlements from the executor: {reason}");
				return;
			},
		};
		for offer in offers {
			let Some(settlement) = Self::settlement_of(&offer) else {
				log::warn!(target: LOG_TARGET, "channel {}: the executor's offer does not decode", offer.channel);
				continue;
			};
			let signature = sp_core::sr25519::Signature::from_raw(offer.node_signature);
			// The runtime's own check, here: what it would refuse is not sent.
			if let Err(error) = Self::check_settlement(&settlement, &signature) {
				log::debug!(target: LOG_TARGET, "channel {}: not settled now ({error:?})", offer.channel);
				continue;
			}
			let call = Call::settle { settlement, signature };
			let extrinsic = <T as CreateBare<Call<T>>>::create_bare(call.into());
			match SubmitTransaction::<T, Call<T>>::submit_transaction(extrinsic) {
				Ok(()) => {
					log::info!(target: LOG_TARGET, "channel {}: {} calls settled up to {}", offer.channel, offer.calls, offer.total)
				},
				Err(()) => {
					log::warn!(target: LOG_TARGET, "channel {}: the pool refused the settlement", offer.channel)
				},
			}
		}
	}

	/// The settlement an executor's offer makes.
	fn settlement_of(offer: &api::SettlementOffer) -> Option<SettlementOf<T>> {
		let signature = T::ClientSignature::decode(&mut &offer.voucher_signature[..]).ok()?;
		Some(Settlement {
			node: NodeKey::from_raw(offer.node),
			voucher: Voucher {
				channel: offer.channel,
				cumulative: offer.cumulative.unique_saturated_into(),
				call_digest: offer.call_digest,
				signature,
			},
			total: offer.total.unique_saturated_into(),
			root: offer.root,
			calls: offer.calls,
		})
	}

	/// The executor's settlement offers for chain `genesis`.
	fn executor_offers(
		url: &str,
		genesis: &[u8; 32],
		token: Option<&str>,
	) -> Result<Vec<api::SettlementOffer>, String> {
		let uri = api::Call::ChannelSettlements { genesis }.uri(url);
		let deadline = sp_io::offchain::timestamp().add(Duration::from_millis(EXECUTOR_TIMEOUT_MS));
		let mut request = http::Request::post(&uri, Vec::<Vec<u8>>::new());
		let authorization = token.map(api::bearer);
		if let Some(value) = authorization.as_deref() {
			request = request.add_header(api::header::AUTHORIZATION, value);
		}
		let pending = request
			.deadline(deadline)
			.send()
			.map_err(|_| format!("executor at {url} unreachable"))?;
		let response = pending
			.try_wait(deadline)
			.map_err(|_| String::from("executor timed out"))?
			.map_err(|e| format!("executor request failed: {e:?}"))?;
		let mut body = response.body();
		body.deadline(deadline);
		let bytes: Vec<u8> = body.by_ref().take(MAX_ANSWER + 1).collect();
		if let Some(error) = body.error() {
			return Err(format!("reading the executor's answer failed: {error:?}"));
		}
		if response.code != 200 {
			return Err(format!(
				"executor answered {}: {}",
				response.code,
				String::from_utf8_lossy(&bytes).trim_end()
			));
		}
		if bytes.len() > MAX_ANSWER {
			return Err("the executor's answer is too long".into());
		}
		api::decode_offers(&bytes).ok_or_else(|| String::from("the executor's answer is malformed"))
	}
}
