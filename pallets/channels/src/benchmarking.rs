//! Benchmarks for `pallet-channels`: every call at its worst case (`settle` checks two
//! signatures and pays both the operator and the treasury, or holds the payment through the
//! runtime's challenge window), and the end of `n` challenge windows in one block (each pays
//! an operator and the treasury).

use super::*;
use crate::pallet::{
	Call, Config, HeldSettlements, NextChannelId, OpenChannels, OpenedCalls, Pallet, Settlements,
	WindowEnds,
};
use frame_benchmarking::v2::*;
use frame_support::{
	assert_ok,
	traits::{
		fungible::{Mutate, MutateHold},
		Get,
	},
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use polkadot_sdk::frame_benchmarking;
use sp_runtime::traits::{Bounded, Hash, Saturating, UniqueSaturatedInto, Zero};

/// Sets up what the channels pallet's benchmarks need from the node registry and keys.
pub trait BenchmarkHelper<T: Config> {
	/// Registers a live inference node whose sr25519 key of type
	/// `opg_primitives::NODE_KEY_TYPE` is generated in the keystore; the key.
	fn serving_node() -> NodeKey;
	/// An account whose key is generated in the keystore, to sign vouchers with.
	fn client() -> T::AccountId;
	/// `client`'s signature of `message`.
	fn sign(client: &T::AccountId, message: &[u8]) -> T::ClientSignature;
	/// The model [`Self::serving_node`] serves, active and checkable by re-execution (not
	/// a language model), and its artifact hash.
	fn served_model() -> (opg_primitives::ModelId, [u8; 32]);
}

fn set_genesis_hash<T: Config>() {
	let hash = T::Hashing::hash(b"opg benchmark genesis");
	frame_system::BlockHash::<T>::insert(BlockNumberFor::<T>::zero(), hash);
}

/// A funded client with a channel of `MinDeposit × 1,000` to a serving node; the channel
/// id, its client and node.
fn opened<T: Config>() -> (ChannelId, T::AccountId, NodeKey) {
	let node = T::BenchmarkHelper::serving_node();
	let client = T::BenchmarkHelper::client();
	T::Currency::set_balance(&client, BalanceOf::<T>::max_value() / 4u32.into());
	let channel = NextChannelId::<T>::get();
	let deposit = T::MinDeposit::get().saturating_mul(1_000u32.into());
	assert_ok!(Pallet::<T>::open(
		RawOrigin::Signed(client.clone()).into(),
		node,
		deposit,
		expiry::<T>(),
	));
	(channel, client, node)
}

fn expiry<T: Config>() -> BlockNumberFor<T> {
	frame_system::Pallet::<T>::block_number()
		.saturating_add(T::DisputePeriod::get())
		.saturating_add(1_000u32.into())
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn open() {
		let node = T::BenchmarkHelper::serving_node();
		let client = T::BenchmarkHelper::client();
		T::Currency::set_balance(&client, BalanceOf::<T>::max_value() / 4u32.into());
		let deposit = T::MinDeposit::get();
		#[extrinsic_call]
		_(RawOrigin::Signed(client), node, deposit, expiry::<T>());
		assert!(OpenChannels::<T>::contains_key(0));
	}

	#[benchmark]
	fn top_up() {
		let (channel, client, _) = opened::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(client), channel, T::MinDeposit::get());
	}

	#[benchmark]
	fn settle() {
		set_genesis_hash::<T>();
		let (channel, client, node) = opened::<T>();
		let genesis = Pallet::<T>::genesis_hash().expect("set above");
		let cumulative = T::MinDeposit::get();
		let amount: u128 = cumulative.unique_saturated_into();
		let call_digest = [7u8; 32];
		let paid = message::voucher(&genesis, channel, amount, &call_digest);
		let signature = T::BenchmarkHelper::sign(&client, &paid);
		let root = [9u8; 32];
		let settled = message::channel_settlement(&genesis, channel, amount, &root, u32::MAX);
		let node_signature =
			sp_io::crypto::sr25519_sign(opg_primitives::NODE_KEY_TYPE, &node, &settled)
				.expect("the helper generated the node key");
		let voucher = Voucher { channel, cumulative, call_digest, signature };
		let settlement = Settlement { node, voucher, total: cumulative, root, calls: u32::MAX };
		#[extrinsic_call]
		_(RawOrigin::None, settlement, node_signature);
		assert_eq!(OpenChannels::<T>::get(channel).map(|state| state.claimed), Some(cumulative));
	}

	#[benchmark]
	fn close() {
		let (channel, client, _) = opened::<T>();
		#[extrinsic_call]
		_(RawOrigin::Signed(client), channel);
	}

	#[benchmark]
	fn withdraw() {
		let (channel, client, _) = opened::<T>();
		assert_ok!(Pallet::<T>::close(RawOrigin::Signed(client.clone()).into(), channel));
		let later =
			frame_system::Pallet::<T>::block_number().saturating_add(T::DisputePeriod::get());
		frame_system::Pallet::<T>::set_block_number(later);
		#[extrinsic_call]
		_(RawOrigin::Signed(client), channel);
		assert!(!OpenChannels::<T>::contains_key(channel));
	}

	#[benchmark]
	fn end_windows(n: Linear<0, 500>) {
		let amount = T::MinDeposit::get();
		let split =
			fees::split(amount.unique_saturated_into(), T::ProtocolFee::get().deconstruct());
		let protocol_fee: BalanceOf<T> = split.protocol.unique_saturated_into();
		let paid = amount.saturating_sub(protocol_fee);
		let now = frame_system::Pallet::<T>::block_number();
		let at = now.saturating_add(1u32.into());
		// Each of another client's channel, paying another operator new to the chain (each
		// payment reads and writes a hold and creates an account).
		for channel in 0..n {
			let client: T::AccountId = account("client", channel, 0);
			T::Currency::set_balance(&client, amount.saturating_mul(10u32.into()));
			assert_ok!(T::Currency::hold(&HoldReason::ChannelDeposit.into(), &client, amount));
			let held = HeldSettlement {
				client,
				operator: account("operator", channel, 0),
				paid,
				protocol_fee,
				final_at: at,
			};
			HeldSettlements::<T>::insert(u64::from(channel), 0, held);
			WindowEnds::<T>::insert(at, (u64::from(channel), 0), ());
		}
		#[block]
		{
			assert_eq!(Pallet::<T>::end_windows(at), n);
		}
		assert_eq!(HeldSettlements::<T>::iter().count(), 0);
	}

	/// A call of a settlement of 65,536 calls (a proof of 16 siblings), challenged: the
	/// verification game's challenge holds the bond and disputes the call.
	#[benchmark]
	fn challenge_call() {
		let (channel, client, _) = opened::<T>();
		let (model, model_hash) = T::BenchmarkHelper::served_model();
		let amount = T::MinDeposit::get();
		let calls: alloc::vec::Vec<pure::ServedCall> = (0..65_536u32)
			.map(|i| pure::ServedCall {
				call_digest: opg_settlement::sha256(&i.to_le_bytes()),
				response_digest: [1; 32],
				model_hash,
				mode: 0,
				amount: 1,
			})
			.collect();
		let root = merkle::root(&calls).expect("not empty");
		let position = 12_345;
		let proof = merkle::proof(&calls, position).expect("in range");
		let call = calls[position];
		let now = frame_system::Pallet::<T>::block_number();
		let final_at = now.saturating_add(10u32.into());
		Settlements::<T>::insert(
			channel,
			0,
			SettledRoot { root, calls: 65_536, total: amount, amount, at: now },
		);
		let held = HeldSettlement {
			client: client.clone(),
			operator: account("operator", 0, 0),
			paid: amount,
			protocol_fee: Zero::zero(),
			final_at,
		};
		HeldSettlements::<T>::insert(channel, 0, held);
		WindowEnds::<T>::insert(final_at, (channel, 0), ());
		let challenger: T::AccountId = account("challenger", 0, 0);
		T::Currency::set_balance(&challenger, BalanceOf::<T>::max_value() / 4u32.into());
		#[extrinsic_call]
		_(RawOrigin::Signed(challenger), channel, 0, model, call, proof);
		assert_eq!(OpenedCalls::<T>::iter().count(), 1);
		assert!(!WindowEnds::<T>::contains_key(final_at, (channel, 0)));
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
