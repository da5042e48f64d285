//! Micro-batching: concurrent requests for one TorchScript model run together.
//!
//! Each model has a bounded queue and one worker thread that owns the model. The worker
//! takes the oldest request, waits at most the batch window for more, and runs up to
//! the batch limit together. A full queue refuses at once ([`Refused::Busy`]): back-pressure, so
//! that a burst costs callers a retry and never unbounded memory or latency.

use crate::{
	metrics::Metrics,
	torch::{self, Output, TorchError, TorchModel},
};
use std::{
	sync::{
		mpsc::{self, Receiver, SyncSender, TrySendError},
		Arc,
	},
	time::{Duration, Instant},
};
use tokio::sync::oneshot;

/// How a model's requests are batched.
#[derive(Clone, Copy, Debug)]
pub struct BatchLimits {
	/// Requests waiting at most; one more is refused as busy.
	pub queue: usize,
	/// Requests run together at most.
	pub max_batch: usize,
	/// How long the worker waits for a batch to fill once it has a request.
	pub window: Duration,
}

/// Why a request was not queued.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
	/// The queue is full: retry later.
	Busy,
	/// The model's worker has stopped (libtorch aborted it); the executor needs a restart.
	Stopped,
}

struct Job {
	input: Vec<u8>,
	queued: Instant,
	reply: oneshot::Sender<Result<Output, Arc<TorchError>>>,
}

/// The queue in front of one model's worker thread.
pub struct Batcher {
	jobs: SyncSender<Job>,
	model: String,
	metrics: Arc<Metrics>,
}

/// The consuming end of a [`Batcher`]'s queue, before it runs.
pub struct Worker {
	queue: Receiver<Job>,
	limits: BatchLimits,
	name: String,
	metrics: Arc<Metrics>,
}

impl Batcher {
	/// A queue for the model named `name` (in metrics and logs), and its worker, which
	/// answers nothing until [`Worker::run`].
	pub fn new(name: String, limits: BatchLimits, metrics: Arc<Metrics>) -> (Self, Worker) {
		let (jobs, queue) = mpsc::sync_channel(limits.queue);
		let worker = Worker { queue, limits, name: name.clone(), metrics: metrics.clone() };
		(Self { jobs, model: name, metrics }, worker)
	}

	/// A queue for `model` with its worker running on a thread of its own.
	pub fn start(
		model: TorchModel,
		name: String,
		limits: BatchLimits,
		metrics: Arc<Metrics>,
	) -> Self {
		let (batcher, worker) = Self::new(name, limits, metrics);
		std::thread::Builder::new()
			.name("torch-worker".into())
			.spawn(move || worker.run(&model))
			.expect("the OS starts a thread");
		batcher
	}

	/// Queues one checked input; the answer comes once its batch has run. Refuses with
	/// [`Refused::Busy`] when the queue is full.
	pub fn submit(
		&self,
		input: Vec<u8>,
	) -> Result<oneshot::Receiver<Result<Output, Arc<TorchError>>>, Refused> {
		let (reply, answer) = oneshot::channel();
		match self.jobs.try_send(Job { input, queued: Instant::now(), reply }) {
			Ok(()) => {
				self.metrics.queue_depth(&self.model, 1);
				Ok(answer)
			},
			Err(TrySendError::Full(_)) => {
				self.metrics.busy(&self.model);
				Err(Refused::Busy)
			},
			Err(TrySendError::Disconnected(_)) => Err(Refused::Stopped),
		}
	}
}

impl Worker {
	/// Runs batches of `model` until the [`Batcher`] is dropped and the queue drained, so
	/// shutdown finishes the jobs already accepted.
	pub fn run(self, model: &TorchModel) {
		let Self { queue, limits, name, metrics } = self;
		let name = name.as_str();
		while let Ok(first) = queue.recv() {
			let mut batch = vec![first];
			let deadline = Instant::now() + limits.window;
			while batch.len() < limits.max_batch {
				let left = deadline.saturating_duration_since(Instant::now());
				match queue.recv_timeout(left) {
					Ok(job) => batch.push(job),
					Err(_) => break,
				}
			}
			metrics.queue_depth(name, -(batch.len() as i64));
			let started = Instant::now();
			let inputs: Vec<&[u8]> = batch.iter().map(|job| job.input.as_slice()).collect();
			let result = model.run_batch(&inputs);
			let run = started.elapsed();
			metrics.batch(name, batch.len(), run);
			let batch_size = batch.len();
			match result {
				Ok(outputs) => {
					for (job, bytes) in batch.into_iter().zip(outputs) {
						metrics.latency(name, job.queued.elapsed());
						let reproducible = batch_size == 1 && torch::deterministic_algorithms();
						let _ = job.reply.send(Ok(Output { bytes, batch_size, reproducible }));
					}
				},
				Err(e) => {
					tracing::warn!(model = name, batch = batch_size, error = %e, "batch failed");
					let e = Arc::new(e);
					for job in batch {
						let _ = job.reply.send(Err(e.clone()));
					}
				},
			}
		}
	}
}
