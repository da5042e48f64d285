//! The pallet's tests by concern; shared helpers here, the mock runtime in `crate::mock`.
// Results are validated through the deprecated `ValidateUnsigned` (see lib.rs).
#![allow(deprecated)]

use crate::{mock::*, *};
use opg_settlement::merkle::{self, Leaf};
use polkadot_sdk::{
	frame_support::{
		assert_noop, assert_ok,
		pallet_prelude::{
			InvalidTransaction, TransactionSource, TransactionValidityError, ValidateUnsigned,
		},
		traits::fungible::{Inspect, InspectHold},
		BoundedVec,
	},
	sp_core::{sr25519, Pair},
	sp_runtime::{traits::Zero, DispatchResult},
};

type Balance = crate::mock::Balance;

fn inline(bytes: &[u8]) -> InputOf<Test> {
	Input::Inline(BoundedVec::truncate_from(bytes.to_vec()))
}

fn stored(tag: u8) -> InputOf<Test> {
	Input::Stored { hash: [tag; 32], size: 4, locator: BoundedVec::new() }
}

fn request_with(
	who: AccountId,
	input: InputOf<Test>,
	mode: VerificationMode,
	settlement: SettlementMode,
) -> DispatchResult {
	// The price and any verification surcharge fit twice the price.
	Inference::request(RuntimeOrigin::signed(who), MODEL, input, mode, settlement, 2 * PRICE, 5)
		.map(drop)
		.map_err(|e| e.error)
}

fn request(who: AccountId) -> RequestId {
	let id = NextRequestId::<Test>::get();
	assert_ok!(request_with(
		who,
		inline(b"inpt"),
		VerificationMode::Vanilla,
		SettlementMode::Individual
	));
	id
}

fn held(who: AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::RequestFee.into(), &who)
}

fn output(bytes: &[u8]) -> Output<<Test as Config>::MaxInlineOutput> {
	Output::Inline(BoundedVec::truncate_from(bytes.to_vec()))
}

/// The result of node `n` for `id`, signed by `signer`.
fn signed_result(
	id: RequestId,
	n: u8,
	out: Output<<Test as Config>::MaxInlineOutput>,
	signer: u8,
) -> (ResultOf<Test>, sr25519::Signature) {
	let request = Requests::<Test>::get(id).unwrap();
	let message = Inference::result_message(&request, id, &out.hash()).unwrap();
	(InferenceResult { request: id, node: key(n), output: out }, node_pair(signer).sign(&message))
}

fn submit(id: RequestId, n: u8) -> DispatchResult {
	let (result, signature) = signed_result(id, n, output(b"out"), n);
	Inference::submit_result(RuntimeOrigin::none(), result, signature)
		.map(drop)
		.map_err(|e| e.error)
}

fn assigned(id: RequestId) -> u8 {
	let node = Requests::<Test>::get(id).unwrap().node;
	(1..=6).find(|n| key(*n) == node).unwrap()
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Inference(event) => Some(event),
			_ => None,
		})
		.collect()
}

mod batches;
mod cannot_serve;
mod deadlines;
mod offchain;
mod properties;
mod records;
mod requests;
mod results;
mod windows;
mod zkml;
