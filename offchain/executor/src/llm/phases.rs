//! Where a forward step's time goes, phase by phase (the norms, the projections, RoPE, the
//! cache writes, attention, the feed-forward, the head, the copy to the host): off unless
//! a benchmark turns it on (`benches/decode.rs`), one atomic load per phase otherwise.
//!
//! On CUDA each phase ends with a synchronization of the device, so that its time is its
//! kernels' launches and their execution, not the queue's: the phases then add up to more
//! than a step that is not measured (nothing overlaps), and their shares say whether a
//! step is bound by launches (many short phases of about the same time whatever the
//! batch) or by arithmetic. On the CPU the operators are synchronous already.

use std::{
	collections::BTreeMap,
	sync::{
		atomic::{AtomicBool, Ordering},
		Mutex,
	},
	time::{Duration, Instant},
};
use tch::Device;

static ON: AtomicBool = AtomicBool::new(false);
static TOTALS: Mutex<BTreeMap<&'static str, Phase>> = Mutex::new(BTreeMap::new());

/// One phase's total over the steps measured.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Phase {
	/// The time spent in it.
	pub time: Duration,
	/// How many times it ran (per layer, it runs once a layer a step).
	pub count: u64,
}

/// Starts measuring (from empty totals) or stops.
pub fn measure(on: bool) {
	TOTALS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
	ON.store(on, Ordering::Relaxed);
}

/// The totals measured since [`measure`] turned it on, by phase name.
pub fn totals() -> BTreeMap<&'static str, Phase> {
	TOTALS.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
}

/// The clock of one step: each [`Clock::mark`] ends a phase begun at the one before.
pub(crate) struct Clock {
	started: Option<(Instant, Device)>,
}

impl Clock {
	/// A clock for a step on `device`; it measures nothing unless measuring is on.
	pub(crate) fn start(device: Device) -> Self {
		let started = ON.load(Ordering::Relaxed).then(|| {
			sync(device);
			(Instant::now(), device)
		});
		Self { started }
	}

	/// Ends phase `name` (its time: since the previous mark, or the start).
	pub(crate) fn mark(&mut self, name: &'static str) {
		let Some((last, device)) = self.started.as_mut() else { return };
		sync(*device);
		let now = Instant::now();
		let mut totals = TOTALS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
		let phase = totals.entry(name).or_default();
		phase.time += now - *last;
		phase.count += 1;
		*last = Instant::now();
	}
}

fn sync(device: Device) {
	if let Device::Cuda(index) = device {
		tch::Cuda::synchronize(index as i64);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn phases_are_measured_only_while_measuring_is_on() {
		// One test: the switch is process-wide.
		measure(false);
		let mut clock = Clock::start(Device::Cpu);
		clock.mark("off");
		assert!(totals().is_empty());
		measure(true);
		let mut clock = Clock::start(Device::Cpu);
		std::thread::sleep(Duration::from_millis(2));
		clock.mark("first");
		clock.mark("second");
		clock.mark("second");
		// Other tests' steps may be measured too while it is on: only these phases are ours.
		let totals = totals();
		assert!(!totals.contains_key("off"));
		assert!(totals["first"].time >= Duration::from_millis(2));
		assert_eq!((totals["first"].count, totals["second"].count), (1, 2));
		measure(false);
		assert!(super::totals().is_empty());
		let mut clock = Clock::start(Device::Cpu);
		clock.mark("off");
		assert!(super::totals().is_empty());
	}
}
