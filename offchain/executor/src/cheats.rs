//! Run modes in which the executor misbehaves, for end-to-end tests of the chain's checks
//! (a verification node must catch a node that serves wrong outputs).
//!
//! Compiled only into test builds (`cargo build --features cheats`): a production build has
//! no code that cheats, and `opg-executor serve --cheat ..` refuses to start
//! ([`enable`]).

/// The modes, by the name `--cheat` takes.
pub const MODES: [&str; 1] = ["corrupt-outputs"];

#[cfg(feature = "cheats")]
static CORRUPT_OUTPUTS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns on cheating `mode` for this process; refused by builds without the `cheats`
/// feature.
pub fn enable(mode: &str) -> Result<(), String> {
	if !MODES.contains(&mode) {
		return Err(format!("unknown cheat {mode:?}: one of {MODES:?}"));
	}
	#[cfg(feature = "cheats")]
	{
		CORRUPT_OUTPUTS.store(true, std::sync::atomic::Ordering::Relaxed);
		Ok(())
	}
	#[cfg(not(feature = "cheats"))]
	Err(String::from(
		"--cheat is for test builds only: this opg-executor was built without the `cheats` feature",
	))
}

/// Whether answers' outputs are to be corrupted (always `false` in production builds).
pub fn corrupts_outputs() -> bool {
	#[cfg(feature = "cheats")]
	return CORRUPT_OUTPUTS.load(std::sync::atomic::Ordering::Relaxed);
	#[cfg(not(feature = "cheats"))]
	false
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
		let refusal = super::enable("corrupt-outputs").unwrap_err();
		assert!(refusal.contains("test builds only"), "{refusal}");
		assert!(!super::corrupts_outputs());
	}
}
