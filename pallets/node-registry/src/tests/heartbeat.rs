//! Liveness without a cron: the node's off-chain worker sends its heartbeat, signed by
//! the node key, once every half liveness window.
// Heartbeats are validated through the deprecated `ValidateUnsigned` (see lib.rs).
#![allow(deprecated)]

use super::*;
use codec::Decode;
use polkadot_sdk::{
	frame_support::{
		pallet_prelude::{InvalidTransaction, TransactionSource, ValidateUnsigned},
		traits::Hooks,
	},
	sp_core::offchain::{testing::TestTransactionPoolExt, TransactionPoolExt},
	sp_keystore::{testing::MemoryKeystore, Keystore, KeystoreExt},
};

type Extrinsic = polkadot_sdk::frame_system::mocking::MockUncheckedExtrinsic<Test>;

fn beat(node: u8, at: u64, signer: u8) -> (Heartbeat<u64>, sr25519::Signature) {
	let message = opg_settlement::message::heartbeat(&GENESIS_HASH, at);
	(Heartbeat { node: key(node), at }, node_pair(signer).sign(&message))
}

fn submit(node: u8, at: u64, signer: u8) -> DispatchResult {
	let (heartbeat, signature) = beat(node, at, signer);
	Registry::submit_heartbeat(RuntimeOrigin::none(), heartbeat, signature)
}

fn pool_refusal(node: u8, at: u64, signer: u8) -> InvalidTransaction {
	let (heartbeat, signature) = beat(node, at, signer);
	let call = Call::submit_heartbeat { heartbeat, signature };
	match Registry::validate_unsigned(TransactionSource::External, &call) {
		Err(polkadot_sdk::sp_runtime::transaction_validity::TransactionValidityError::Invalid(
			invalid,
		)) => invalid,
		other => panic!("refused by the pool, not {other:?}"),
	}
}

#[test]
fn the_off_chain_worker_keeps_its_node_live_without_the_operator() {
	let mut ext = ExtBuilder::default().build();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	let keystore = MemoryKeystore::new();
	keystore
		.sr25519_generate_new(
			opg_primitives::NODE_KEY_TYPE,
			// Node 1's seed: 32 bytes of 1.
			Some(&format!("0x{}", "01".repeat(32))),
		)
		.unwrap();
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.register_extension(KeystoreExt::new(keystore));
	ext.execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		// Another node's key is not in the keystore: nothing is sent for it.
		assert_ok!(register(2, BOB, 5_000));
		// LivenessWindow is 10: a heartbeat is due 5 blocks after the last.
		for block in 2..=5 {
			run_to(block);
			Registry::offchain_worker(block);
			assert!(pool_state.read().transactions.is_empty(), "none due at {block}");
		}
		for block in 6..=30 {
			run_to(block);
			Registry::offchain_worker(block);
			for bytes in core::mem::take(&mut pool_state.write().transactions) {
				let extrinsic = Extrinsic::decode(&mut &bytes[..]).unwrap();
				let RuntimeCall::NodeRegistry(call) = extrinsic.function else {
					panic!("a registry call")
				};
				assert_ok!(Registry::validate_unsigned(TransactionSource::Local, &call));
				let Call::submit_heartbeat { heartbeat, signature } = call else {
					panic!("a heartbeat")
				};
				assert_eq!((heartbeat.node, heartbeat.at), (key(1), block));
				assert_ok!(Registry::submit_heartbeat(RuntimeOrigin::none(), heartbeat, signature));
				assert_eq!(last_event(), Event::Heartbeat { node: key(1) });
			}
			assert!(Registry::is_live(&key(1), Roles::INFERENCE), "live at {block}");
		}
		assert_eq!(Nodes::<Test>::get(key(1)).unwrap().last_heartbeat, 26);
		assert!(!Registry::is_live(&key(2), Roles::INFERENCE));
	});
}

/// A heartbeat that would move nothing forward, or that its node key did not sign, is
/// refused by the pool (with a code that says why) and by dispatch.
#[test]
fn early_future_forged_and_inactive_heartbeats_are_refused() {
	ExtBuilder::default().build_and_execute(|| {
		assert_ok!(register(1, ALICE, 5_000));
		run_to(8);
		assert_noop!(submit(1, 5, 1), Error::<Test>::HeartbeatTooSoon);
		assert_eq!(pool_refusal(1, 5, 1), InvalidTransaction::Stale);
		assert_noop!(submit(1, 9, 1), Error::<Test>::FutureHeartbeat);
		assert_eq!(pool_refusal(1, 9, 1), InvalidTransaction::Future);
		assert_noop!(submit(1, 6, 2), Error::<Test>::BadNodeKeySignature);
		assert_eq!(pool_refusal(1, 6, 2), InvalidTransaction::BadProof);
		assert_noop!(submit(2, 6, 2), Error::<Test>::NodeNotFound);
		assert_eq!(pool_refusal(2, 6, 2), InvalidTransaction::BadSigner);
		// Block building and import check the timing only; dispatch the signature.
		let (heartbeat, forged) = beat(1, 6, 2);
		assert_ok!(Registry::pre_dispatch(&Call::submit_heartbeat {
			heartbeat,
			signature: forged
		}));
		// Signed by the node key for block 6: accepted, and not twice.
		assert_ok!(submit(1, 6, 1));
		let (heartbeat, signature) = beat(1, 6, 1);
		assert!(Registry::pre_dispatch(&Call::submit_heartbeat { heartbeat, signature }).is_err());
		assert_noop!(submit(1, 6, 1), Error::<Test>::HeartbeatTooSoon);
		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		run_to(20);
		assert_noop!(submit(1, 20, 1), Error::<Test>::NodeNotActive);
	});
}

/// For a key an executor holds, the inference worker asks the registry when a heartbeat
/// is due and hands it the executor's signature: due exactly when the registry's own
/// worker would send one, never for a node that is not active.
#[test]
fn a_heartbeat_is_due_half_a_window_after_the_last_for_active_nodes_only() {
	use opg_primitives::InferenceNodes;
	let mut ext = ExtBuilder::default().build();
	let (pool, pool_state) = TestTransactionPoolExt::new();
	ext.register_extension(TransactionPoolExt::new(pool));
	ext.execute_with(|| {
		assert_ok!(register(1, ALICE, 5_000));
		assert_eq!(<Registry as InferenceNodes<_, _, _>>::heartbeat_due(&key(1)), None);
		run_to(6);
		assert_eq!(<Registry as InferenceNodes<_, _, _>>::heartbeat_due(&key(1)), Some(6));
		assert_eq!(<Registry as InferenceNodes<_, _, _>>::heartbeat_due(&key(9)), None);

		let (heartbeat, signature) = beat(1, 6, 1);
		assert!(<Registry as InferenceNodes<_, _, _>>::submit_heartbeat(
			&heartbeat.node,
			heartbeat.at,
			signature
		));
		let bytes = pool_state.write().transactions.pop().expect("submitted");
		let RuntimeCall::NodeRegistry(call) = Extrinsic::decode(&mut &bytes[..]).unwrap().function
		else {
			panic!("a registry call")
		};
		assert_eq!(call, Call::submit_heartbeat { heartbeat, signature });

		assert_ok!(Registry::unregister(RuntimeOrigin::signed(ALICE), key(1)));
		run_to(12);
		assert_eq!(<Registry as InferenceNodes<_, _, _>>::heartbeat_due(&key(1)), None);
	});
}
