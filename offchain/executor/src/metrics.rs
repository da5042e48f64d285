//! Prometheus metrics, served as text at `GET /metrics`.

use std::{collections::BTreeMap, fmt::Write, sync::Mutex, time::Duration};

/// Upper bounds of the latency buckets, in seconds.
const SECONDS: [f64; 12] = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 5.0];
/// Upper bounds of the batch-size buckets.
const SIZES: [f64; 8] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];

#[derive(Clone, Default)]
struct Histogram {
	buckets: Vec<u64>,
	sum: f64,
	count: u64,
}

/// A histogram as `/metrics` renders it: name, help text, where it is kept, bucket bounds.
type HistogramSpec = (&'static str, &'static str, fn(&ModelMetrics) -> &Histogram, &'static [f64]);

impl Histogram {
	fn observe(&mut self, bounds: &[f64], value: f64) {
		if self.buckets.is_empty() {
			self.buckets = vec![0; bounds.len()];
		}
		for (bucket, bound) in self.buckets.iter_mut().zip(bounds) {
			if value <= *bound {
				*bucket += 1;
			}
		}
		self.sum += value;
		self.count += 1;
	}

	fn write(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
		for (index, bound) in bounds.iter().enumerate() {
			let count = self.buckets.get(index).copied().unwrap_or(0);
			let _ = writeln!(out, "{name}_bucket{{{labels},le=\"{bound}\"}} {count}");
		}
		let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {}", self.count);
		let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
		let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
	}
}

#[derive(Default)]
struct ModelMetrics {
	requests: BTreeMap<&'static str, u64>,
	queue_depth: i64,
	latency: Histogram,
	batch_size: Histogram,
	batch_seconds: Histogram,
}

/// Counters, gauges and histograms per model (by hash).
#[derive(Default)]
pub struct Metrics {
	models: Mutex<BTreeMap<String, ModelMetrics>>,
}

impl Metrics {
	fn with(&self, model: &str, update: impl FnOnce(&mut ModelMetrics)) {
		let mut models = self.models.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		update(models.entry(model.to_owned()).or_default());
	}

	/// Counts a finished request by outcome (`ok`, `invalid`, `busy`, `failed`; a language
	/// model's also `cancelled`, when its client left before the answer ended).
	pub fn request(&self, model: &str, outcome: &'static str) {
		self.with(model, |m| *m.requests.entry(outcome).or_default() += 1);
	}

	/// Counts a request refused because the queue was full.
	pub fn busy(&self, model: &str) {
		self.request(model, "busy");
	}

	/// Changes the queue depth by `change`.
	pub fn queue_depth(&self, model: &str, change: i64) {
		self.with(model, |m| m.queue_depth += change);
	}

	/// Records a request's time from queueing to its answer.
	pub fn latency(&self, model: &str, elapsed: Duration) {
		self.with(model, |m| m.latency.observe(&SECONDS, elapsed.as_secs_f64()));
	}

	/// Records one batch run: its size and the model's time (for a language model, one
	/// decoding step: the sequences it ran and its forward pass).
	pub fn batch(&self, model: &str, size: usize, run: Duration) {
		self.with(model, |m| {
			m.batch_size.observe(&SIZES, size as f64);
			m.batch_seconds.observe(&SECONDS, run.as_secs_f64());
		});
	}

	/// The Prometheus text exposition.
	pub fn render(&self) -> String {
		let models = self.models.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let mut out = String::new();
		out.push_str(
			"# HELP opg_executor_requests_total Inference requests by model and outcome.\n",
		);
		out.push_str("# TYPE opg_executor_requests_total counter\n");
		for (model, m) in models.iter() {
			for (outcome, count) in &m.requests {
				let _ = writeln!(out, "opg_executor_requests_total{{model=\"{model}\",outcome=\"{outcome}\"}} {count}");
			}
		}
		out.push_str("# HELP opg_executor_queue_depth Requests waiting for a batch.\n");
		out.push_str("# TYPE opg_executor_queue_depth gauge\n");
		for (model, m) in models.iter() {
			let _ =
				writeln!(out, "opg_executor_queue_depth{{model=\"{model}\"}} {}", m.queue_depth);
		}
		let histograms: [HistogramSpec; 3] = [
			(
				"opg_executor_request_seconds",
				"Time from queueing to the answer.",
				|m| &m.latency,
				&SECONDS,
			),
			("opg_executor_batch_size", "Requests run together.", |m| &m.batch_size, &SIZES),
			(
				"opg_executor_batch_seconds",
				"Model time of one batch.",
				|m| &m.batch_seconds,
				&SECONDS,
			),
		];
		for (name, help, histogram, bounds) in histograms {
			let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
			for (model, m) in models.iter() {
				histogram(m).write(&mut out, name, &format!("model=\"{model}\""), bounds);
			}
		}
		out
	}
}
