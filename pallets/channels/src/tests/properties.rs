//! Long random sequences of open, top-up, voucher, settle, close, withdraw, challenges of
//! settled calls and their verdicts, and time, under a random challenge window.

use super::*;
use opg_primitives::HeldResults;
use proptest::prelude::*;

/// One step of a client, a node or time.
#[derive(Clone, Debug)]
enum Step {
	/// Client `client` opens a channel of `deposit` until `lifetime` blocks from now.
	Open { client: u8, deposit: Balance, lifetime: u64 },
	/// The client of channel `channel` (the n-th opened) adds `amount`.
	TopUp { channel: u8, amount: Balance },
	/// The client pays `amount` more on `channel`: a new voucher, which the node keeps.
	Pay { channel: u8, amount: Balance },
	/// The node settles the highest voucher it holds for `channel`, or an older one,
	/// claiming `under` less than it authorizes (a usage-priced call charged below its
	/// cap), or, if `over`, one more.
	Settle { channel: u8, stale: bool, under: Balance, over: bool },
	/// The client starts closing `channel`.
	Close { channel: u8 },
	/// The client withdraws `channel`.
	Withdraw { channel: u8 },
	/// `blocks` pass.
	Wait { blocks: u64 },
	/// Someone challenges the call of the `settlement`-th held settlement.
	Challenge { settlement: u8 },
	/// The case of the `call`-th challenged call ends: the call stands if `upheld`.
	Conclude { call: u8, upheld: bool },
}

fn step() -> impl Strategy<Value = Step> {
	prop_oneof![
		(0u8..9, 50u128..2_000, 1u64..40).prop_map(|(client, deposit, lifetime)| Step::Open {
			client,
			deposit,
			lifetime
		}),
		(any::<u8>(), 0u128..500).prop_map(|(channel, amount)| Step::TopUp { channel, amount }),
		(any::<u8>(), 1u128..400).prop_map(|(channel, amount)| Step::Pay { channel, amount }),
		(any::<u8>(), any::<bool>(), 0u128..60, proptest::bool::weighted(0.1))
			.prop_map(|(channel, stale, under, over)| Step::Settle { channel, stale, under, over }),
		any::<u8>().prop_map(|channel| Step::Close { channel }),
		any::<u8>().prop_map(|channel| Step::Withdraw { channel }),
		(1u64..15).prop_map(|blocks| Step::Wait { blocks }),
		any::<u8>().prop_map(|settlement| Step::Challenge { settlement }),
		(any::<u8>(), any::<bool>()).prop_map(|(call, upheld)| Step::Conclude { call, upheld }),
	]
}

/// What the test knows of a channel: its client and every voucher signed on it.
struct Known {
	id: ChannelId,
	client: ClientKey,
	signed: Vec<Balance>,
}

proptest! {
	#![proptest_config(ProptestConfig::with_cases(64))]

	/// Whatever happens, with settlements paid at once or held through a challenge window,
	/// and their calls challenged and found right or wrong:
	/// no OPG is made or lost; every node receives no more than the highest voucher signed;
	/// every client loses no more than that; each client's hold is what its channels have
	/// left and its held settlements claimed; and once every channel is withdrawn and every
	/// window has ended, nothing is held.
	#[test]
	fn channels_conserve_pay_at_most_the_highest_voucher_and_release_every_hold(
		steps in proptest::collection::vec(step(), 1..80),
		window in 0u32..8,
	) {
		new_test_ext().execute_with(|| {
			set_challenge_window(window);
			let issuance = Balances::total_issuance();
			let clients: Vec<ClientKey> = (0..9).map(|k| ClientKey::new(k % 3, 1 + k / 3)).collect();
			let mut known: Vec<Known> = Vec::new();
			let pick = |known: &Vec<Known>, channel: u8| {
				(!known.is_empty()).then(|| channel as usize % known.len())
			};
			for step in steps {
				let now = System::block_number();
				match step {
					Step::Open { client, deposit, lifetime } => {
						let key = clients[client as usize].clone();
						let id = NextChannelId::<Test>::get();
						let expiry = now + DisputePeriod::get() + lifetime;
						if Channels::open(RuntimeOrigin::signed(key.account()), node(1), deposit, expiry).is_ok() {
							known.push(Known { id, client: key, signed: Vec::new() });
						}
					},
					Step::TopUp { channel, amount } => if let Some(i) = pick(&known, channel) {
						let _ = Channels::top_up(RuntimeOrigin::signed(known[i].client.account()), known[i].id, amount);
					},
					Step::Pay { channel, amount } => if let Some(i) = pick(&known, channel) {
						let last = known[i].signed.last().copied().unwrap_or(0);
						known[i].signed.push(last + amount);
					},
					Step::Settle { channel, stale, under, over } => if let Some(i) = pick(&known, channel) {
						let signed = &known[i].signed;
						let cumulative = match (stale, signed.len()) {
							(_, 0) => continue,
							(true, n) => signed[n / 2],
							(false, n) => signed[n - 1],
						};
						let total = if over { cumulative + 1 } else { cumulative.saturating_sub(under) };
						let paid = voucher(&known[i].client, known[i].id, cumulative);
						let (settlement, signature) = claiming(1, paid, total, &calls(total as u8, 1));
						let _ = Channels::settle(RuntimeOrigin::none(), settlement, signature);
					},
					Step::Close { channel } => if let Some(i) = pick(&known, channel) {
						let _ = Channels::close(RuntimeOrigin::signed(known[i].client.account()), known[i].id);
					},
					Step::Withdraw { channel } => if let Some(i) = pick(&known, channel) {
						let _ = Channels::withdraw(RuntimeOrigin::signed(known[i].client.account()), known[i].id);
					},
					Step::Wait { blocks } => run_to(now + blocks),
					Step::Challenge { settlement } => {
						let held: Vec<(ChannelId, u32)> =
							HeldSettlements::<Test>::iter_keys().collect();
						if held.is_empty() {
							continue;
						}
						let (channel, index) = held[settlement as usize % held.len()];
						let total = Settlements::<Test>::get(channel, index).unwrap().total;
						let served = calls(total as u8, 1);
						let proof = merkle::proof(&served, 0).unwrap();
						let challenger = ClientKey::new(1, 2).account();
						let _ = Channels::challenge_call(
							RuntimeOrigin::signed(challenger), channel, index, MODEL, served[0], proof,
						);
					},
					Step::Conclude { call, upheld } => {
						let open: Vec<u64> = OpenedCalls::<Test>::iter_keys().collect();
						if let Some(id) = (!open.is_empty()).then(|| open[call as usize % open.len()]) {
							prop_assert!(<Channels as HeldResults<_, _>>::conclude(id, upheld));
						}
					},
				}
				prop_assert_eq!(Balances::total_issuance(), issuance);
				Channels::do_try_state().unwrap();
				let highest: Balance =
					known.iter().map(|k| k.signed.iter().copied().max().unwrap_or(0)).sum();
				let earned = free(&operator(1)) - START + free(&Treasury::get()) - START;
				prop_assert!(earned <= highest, "the node earned {} over vouchers of {}", earned, highest);
				for client in &clients {
					let signed: Balance = known
						.iter()
						.filter(|k| k.client.account() == client.account())
						.map(|k| k.signed.iter().copied().max().unwrap_or(0))
						.sum();
					let lost = START - free(&client.account()) - held(&client.account());
					prop_assert!(lost <= signed, "a client lost {} over vouchers of {}", lost, signed);
				}
			}
			// Every case ends; then, past every expiry, each client withdraws.
			let open: Vec<u64> = OpenedCalls::<Test>::iter_keys().collect();
			for id in open {
				prop_assert!(<Channels as HeldResults<_, _>>::conclude(id, id % 2 == 0));
			}
			run_to(System::block_number() + 1_000);
			for k in &known {
				if OpenChannels::<Test>::contains_key(k.id) {
					prop_assert!(Channels::withdraw(RuntimeOrigin::signed(k.client.account()), k.id).is_ok());
				}
			}
			for client in &clients {
				prop_assert_eq!(held(&client.account()), 0);
			}
			prop_assert_eq!(HeldSettlements::<Test>::iter().count(), 0);
			prop_assert_eq!(WindowEnds::<Test>::iter().count(), 0);
			prop_assert_eq!(OpenedCalls::<Test>::iter().count(), 0);
			prop_assert_eq!(Disputes::<Test>::iter().count(), 0);
			prop_assert_eq!(Balances::total_issuance(), issuance);
			Ok(())
		})?;
	}
}
