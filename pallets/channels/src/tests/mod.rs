//! Tests by concern: opening, topping up, closing and withdrawing (`channels`); vouchers
//! and settlement (`settle`); payments held through challenge windows (`windows`); long
//! random sequences of all of them (`properties`); served calls challenged
//! (`challenges`).

use crate::{mock::*, *};
use opg_settlement::{channel::ServedCall, merkle, message};
use polkadot_sdk::frame_support::{assert_noop, assert_ok, traits::fungible::InspectHold};

mod challenges;
mod channels;
mod properties;
mod settle;
mod windows;

/// The sr25519 client of seed 1.
fn alice() -> ClientKey {
	ClientKey::new(0, 1)
}

fn held(who: &AccountId) -> Balance {
	Balances::balance_on_hold(&HoldReason::ChannelDeposit.into(), who)
}

fn free(who: &AccountId) -> Balance {
	Balances::free_balance(who)
}

/// `client` opens a channel of `deposit` to node 1 until block 100; its id.
fn open(client: &ClientKey, deposit: Balance) -> ChannelId {
	let id = NextChannelId::<Test>::get();
	assert_ok!(Channels::open(RuntimeOrigin::signed(client.account()), node(1), deposit, 100));
	id
}

/// The calls a settlement covers: `count` calls of 1 each, distinguished by `tag`.
fn calls(tag: u8, count: usize) -> Vec<ServedCall> {
	(0..count)
		.map(|i| ServedCall {
			call_digest: opg_settlement::sha256(&[tag, i as u8]),
			response_digest: [i as u8; 32],
			model_hash: [0xaa; 32],
			mode: 0,
			amount: 1,
		})
		.collect()
}

/// `client`'s voucher for `cumulative` on `channel`.
fn voucher(client: &ClientKey, channel: ChannelId, cumulative: Balance) -> VoucherOf<Test> {
	let call_digest = [cumulative as u8; 32];
	let message = message::voucher(&GENESIS, channel, cumulative, &call_digest);
	Voucher { channel, cumulative, call_digest, signature: client.sign(&message) }
}

/// Node `n`'s settlement of `voucher`'s whole cumulative amount over `calls`, and its
/// signature.
fn settlement(
	n: u8,
	voucher: VoucherOf<Test>,
	calls: &[ServedCall],
) -> (SettlementOf<Test>, polkadot_sdk::sp_core::sr25519::Signature) {
	let total = voucher.cumulative;
	claiming(n, voucher, total, calls)
}

/// Node `n`'s settlement claiming the charged `total` under `voucher` over `calls`, and
/// its signature.
fn claiming(
	n: u8,
	voucher: VoucherOf<Test>,
	total: Balance,
	calls: &[ServedCall],
) -> (SettlementOf<Test>, polkadot_sdk::sp_core::sr25519::Signature) {
	use polkadot_sdk::sp_core::Pair;
	let root = merkle::root(calls).unwrap_or_default();
	let count = calls.len() as u32;
	let message = message::channel_settlement(&GENESIS, voucher.channel, total, &root, count);
	let signature = node_pair(n).sign(&message);
	(Settlement { node: node(n), voucher, total, root, calls: count }, signature)
}

/// Node 1 settles `client`'s voucher for `cumulative` on `channel` over `count` calls.
fn settle(
	client: &ClientKey,
	channel: ChannelId,
	cumulative: Balance,
	count: usize,
) -> DispatchResult {
	let (settlement, signature) =
		settlement(1, voucher(client, channel, cumulative), &calls(cumulative as u8, count));
	Channels::settle(RuntimeOrigin::none(), settlement, signature)
}

fn last_event() -> Event<Test> {
	System::events()
		.into_iter()
		.rev()
		.find_map(|record| match record.event {
			RuntimeEvent::Channels(event) => Some(event),
			_ => None,
		})
		.expect("an event of the channels pallet")
}

use polkadot_sdk::sp_runtime::DispatchResult;
