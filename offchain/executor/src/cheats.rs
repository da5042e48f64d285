//! Run modes in which the executor misbehaves, for end-to-end tests of the chain's checks
//! (a verification node must catch a node that serves wrong outputs).
//!
//! Compiled only into test builds (`cargo build --features cheats`): a production build has
//! no code that cheats, and `opg-executor serve --cheat ..` refuses to start
//! ([`enable`]).

/// The modes, by the name `--cheat` takes: `corrupt-outputs` changes every tensor output
/// it answers beyond any tolerance (its last byte's lowest bit: a float's exponent, an
/// integer's sign-side byte) and every on-chain language-model answer (its first token
/// replaced, the evidence it keeps made to match: [`crate::openai::tamper`]);
/// `round-outputs` changes only the first byte's lowest bit (a
/// float32 output's first element moved to a neighbouring float), as another kind of CPU
/// might round: an honest difference within a float model's published tolerance.
pub const MODES: [&str; 2] = ["corrupt-outputs", "round-outputs"];

/// How an output is changed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Cheat {
	/// The last byte's lowest bit flipped.
	Corrupt,
	/// The first byte's lowest bit flipped.
	Round,
}

/// The mode turned on: 0 none, else 1 + its index in [`MODES`].
#[cfg(feature = "cheats")]
static MODE: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Turns on cheating `mode` for this process; refused by builds without the `cheats`
/// feature.
pub fn enable(mode: &str) -> Result<(), String> {
	let Some(_index) = MODES.iter().position(|known| *known == mode) else {
		return Err(format!("unknown cheat {mode:?}: one of {MODES:?}"));
	};
	#[cfg(feature = "cheats")]
	{
		MODE.store(_index as u8 + 1, std::sync::atomic::Ordering::Relaxed);
		Ok(())
	}
	#[cfg(not(feature = "cheats"))]
	Err(String::from(
		"--cheat is for test builds only: this opg-executor was built without the `cheats` feature",
	))
}

/// How answers' outputs are to be changed, if at all (always `None` in production builds).
pub fn output_cheat() -> Option<Cheat> {
	#[cfg(feature = "cheats")]
	return match MODE.load(std::sync::atomic::Ordering::Relaxed) {
		1 => Some(Cheat::Corrupt),
		2 => Some(Cheat::Round),
		_ => None,
	};
	#[cfg(not(feature = "cheats"))]
	None
}

/// `output` changed as `cheat` changes it.
pub fn apply(cheat: Cheat, output: &mut [u8]) {
	match cheat {
		// As a planted honeypot's answer is wrong.
		Cheat::Corrupt => crate::honeypots::corrupt(output),
		Cheat::Round => {
			if let Some(first) = output.first_mut() {
				*first ^= 0x01;
			}
		},
	}
}

#[cfg(test)]
mod tests {
	#[test]
	fn an_unknown_mode_is_refused() {
		assert!(super::enable("lie").unwrap_err().contains("unknown cheat"));
	}

	#[cfg(not(feature = "cheats"))]
	#[test]
	fn a_production_build_refuses_to_cheat_and_never_does() {
		for mode in super::MODES {
			let refusal = super::enable(mode).unwrap_err();
			assert!(refusal.contains("test builds only"), "{refusal}");
		}
		assert_eq!(super::output_cheat(), None);
	}

	#[test]
	fn rounding_moves_a_float_to_its_neighbour_and_corrupting_moves_it_far() {
		let tolerance = opg_primitives::Tolerance { absolute_ppb: 1_000, relative_ppb: 10_000 };
		let value = 0.73f32;
		let mut rounded = value.to_le_bytes();
		super::apply(super::Cheat::Round, &mut rounded);
		let rounded = f32::from_le_bytes(rounded);
		assert_eq!(rounded.to_bits().abs_diff(value.to_bits()), 1, "one unit in the last place");
		assert!(tolerance.allows(rounded.into(), value.into()));
		let mut corrupted = value.to_le_bytes();
		super::apply(super::Cheat::Corrupt, &mut corrupted);
		assert!(!tolerance.allows(f32::from_le_bytes(corrupted).into(), value.into()));
	}
}
