//! A weight product `x · Wᵀ` as the decoder's projections and head run it.
//!
//! On the CPU in bf16, libtorch's `linear` hands the product to oneDNN, which first
//! reorders the whole weight into the blocked layout its kernels read — on every call.
//! At decode time (one row per sequence) that reordering adds about 40 % to the product:
//! the 121 products of one SmolLM2-135M step take about 1.4× as long as with the weight
//! reordered once at load (`scripts/benchmark llm`, `docs/benchmarks.md`). So a bf16 weight
//! on the CPU is packed once, with the operators torch.compile's weight freezing uses
//! (`mkldnn::_reorder_linear_weight`, `mkldnn::_linear_pointwise`, bound in `onednn.cpp`),
//! and products of up to [`PACKED_ROWS`] rows read the packed copy. The kernel is the
//! same, so the results are too (the tests compare them bit for bit). oneDNN has bf16
//! kernels for CPUs with AVX-512 only ([`packs_bf16`]); on a CPU with AVX2 and FMA but not
//! those, libtorch's bf16 `linear` is several times slower than f32, and a bf16 weight is
//! packed into `few_rows.cpp`'s layout instead: every bf16 product, of any number of rows,
//! runs its bf16 kernel ([`Linear::is_bf16_rows`]): each output the f32 kernel's sum of the
//! exact products, rounded to bf16 once.
//!
//! On the CPU in f32, libtorch hands the product to MKL, whose one-row sgemv streams the
//! weights below the memory's rate, whose few-row sgemm is compute-bound (8 rows cost
//! about 2.4× one), and which on AMD CPUs multiplies a prompt at about half the FMA units'
//! rate. Where the CPU has AVX-512, or AVX2 and FMA, an f32 weight is instead packed once
//! into `few_rows.cpp`'s layout (blocks of 16 output rows, k-major), and every product
//! runs its kernel: a decode step's few rows read each weight once, a prompt's many rows
//! run over a few blocks at a time while they are in the cache; 16 outputs a vector, each
//! output summed in one fixed order whatever the thread count and the rows beside it (so a
//! prompt's row is the same bits as that row decoded alone). Its sums are in another
//! order than MKL's, so they differ from the plain product's in the last bits (the tests
//! bound the difference). The plain weight is then not kept. CUDA, and a CPU with
//! neither, run the plain `linear`.

use std::ffi::{c_char, CStr};
use tch::{Device, Kind, TchError, Tensor};
use torch_sys::C_tensor;

/// The most rows a product runs against the packed weight; longer ones (a long prompt's
/// prefill) run the plain `linear` (at 300 rows the two measured alike, beyond that the
/// plain one was faster: a rough measurement on a busy machine).
pub const PACKED_ROWS: i64 = 256;

extern "C" {
	fn opg_onednn_pack_linear(
		weight: *const C_tensor,
		rows: i64,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
	fn opg_onednn_linear(
		x: *const C_tensor,
		packed: *const C_tensor,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
	fn opg_few_rows_supported() -> bool;
	fn opg_few_rows_avx2_only(on: bool) -> bool;
	fn opg_few_rows_pack(
		weight: *const C_tensor,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
	fn opg_bf16_rows_linear(
		x: *const C_tensor,
		packed: *const C_tensor,
		out: i64,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
	fn opg_few_rows_linear(
		x: *const C_tensor,
		packed: *const C_tensor,
		out: i64,
		error: *mut c_char,
		error_len: usize,
	) -> *mut C_tensor;
}

/// Whether f32 products on this CPU run `few_rows.cpp`: with AVX-512, or with AVX2 and
/// FMA (the same bits either way).
pub fn few_rows() -> bool {
	static RUNS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	// SAFETY: the shim only reads the CPU's features.
	*RUNS.get_or_init(|| unsafe { opg_few_rows_supported() })
}

/// Runs the f32 few-row products on the AVX2 kernels even where the CPU has AVX-512
/// (`on`), or on the best the CPU has (`!on`, the default); the answers are the same bits
/// either way. For tests and benchmarks of the AVX2 kernels on an AVX-512 machine.
/// Returns whether this CPU has AVX2 with FMA (without them the setting changes nothing).
pub fn few_rows_avx2_only(on: bool) -> bool {
	// SAFETY: the shim only stores the setting and reads the CPU's features.
	unsafe { opg_few_rows_avx2_only(on) }
}

/// Whether this CPU's libtorch packs bf16 weights for oneDNN (found once, by packing a
/// small weight). oneDNN's bf16 kernels need AVX-512; on a CPU without it (an AVX2-only
/// AMD EPYC, 2026-12-06) packing is refused, and bf16 products run the plain `linear`.
pub fn packs_bf16() -> bool {
	static PACKS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
	*PACKS.get_or_init(|| {
		Tensor::f_ones([16, 16], (Kind::BFloat16, Device::Cpu))
			.is_ok_and(|weight| Linear::pack(&weight).is_ok())
	})
}

/// Runs one shim call: its new tensor, or the shim's message after `what`.
pub(super) fn shim(
	what: &str,
	call: impl FnOnce(*mut c_char, usize) -> *mut C_tensor,
) -> Result<Tensor, TchError> {
	let mut error = [0 as c_char; 512];
	let tensor = call(error.as_mut_ptr(), error.len());
	if tensor.is_null() {
		// SAFETY: the shim NUL-terminates what it writes; the buffer starts zeroed.
		let message = unsafe { CStr::from_ptr(error.as_ptr()) };
		return Err(TchError::Torch(format!("{what}: {}", message.to_string_lossy())));
	}
	// SAFETY: a non-null result is a new `at::Tensor` the shim allocated for us to own.
	Ok(unsafe { Tensor::from_ptr(tensor) })
}

/// A weight `[out, in]`, and its packed copy where one helps.
pub struct Linear {
	/// The weight as given, kept where a product reads it: not where `few_rows.cpp`
	/// multiplies every row.
	weight: Option<Tensor>,
	/// The weight's rows (the product's outputs) and element type.
	out: i64,
	kind: Kind,
	/// oneDNN's packed copy (bf16 on the CPU).
	packed: Option<Tensor>,
	/// `few_rows.cpp`'s packed copy (f32 on a CPU with AVX-512 or AVX2; bf16 where oneDNN
	/// does not pack it, see [`Self::is_bf16_rows`]): every product runs on it.
	few_rows: Option<Tensor>,
}

impl Linear {
	/// `weight`, packed if it is bf16 on the CPU and libtorch packs it (and its product
	/// matches the plain one's shape); otherwise plain.
	pub fn new(weight: Tensor) -> Self {
		let packed = if weight.device() == Device::Cpu && weight.kind() == Kind::BFloat16 {
			Self::pack(&weight).ok()
		} else {
			None
		};
		let cpu = weight.device() == Device::Cpu;
		let few_rows = if cpu
			&& few_rows()
			&& (weight.kind() == Kind::Float
				|| (weight.kind() == Kind::BFloat16 && packed.is_none()))
		{
			Self::few_rows_pack(&weight)
		} else {
			None
		};
		let (out, kind) = (weight.size().first().copied().unwrap_or(0), weight.kind());
		let weight = few_rows.is_none().then_some(weight);
		Self { weight, out, kind, packed, few_rows }
	}

	/// Only the plain product, never a packed copy (for comparisons).
	#[cfg(test)]
	pub fn plain(weight: Tensor) -> Self {
		let (out, kind) = (weight.size()[0], weight.kind());
		Self { weight: Some(weight), out, kind, packed: None, few_rows: None }
	}

	/// A bf16 weight on `few_rows.cpp`'s bf16 kernel even where oneDNN would pack it (tests
	/// and benchmarks of that kernel on any CPU with AVX2); `None` where the kernel cannot
	/// run.
	pub fn bf16_rows(weight: Tensor) -> Option<Self> {
		let runs = weight.device() == Device::Cpu
			&& weight.kind() == Kind::BFloat16
			&& few_rows()
			&& std::is_x86_feature_detected!("avx2")
			&& std::is_x86_feature_detected!("fma");
		if !runs {
			return None;
		}
		let few = Self::few_rows_pack(&weight)?;
		let (out, kind) = (weight.size()[0], weight.kind());
		Some(Self { weight: None, out, kind, packed: None, few_rows: Some(few) })
	}

	/// `few_rows.cpp`'s packed copy of `weight`, if the shim makes one.
	fn few_rows_pack(weight: &Tensor) -> Option<Tensor> {
		// SAFETY: `weight` outlives the call; the shim copies it.
		shim("few-row product", |error, len| unsafe {
			opg_few_rows_pack(weight.as_ptr(), error, len)
		})
		.ok()
	}

	fn pack(weight: &Tensor) -> Result<Tensor, TchError> {
		// SAFETY: `weight` outlives the call; the shim copies what it keeps.
		let packed = shim("oneDNN", |error, len| unsafe {
			opg_onednn_pack_linear(weight.as_ptr(), 1, error, len)
		})?;
		// One trial product, so that a libtorch whose kernel refuses this CPU or dtype is
		// found here, at load, and the plain product used instead.
		let probe = Tensor::f_ones([1, weight.size()[1]], (weight.kind(), weight.device()))?;
		let out = Self::packed_product(&probe, &packed)?;
		if out.size() != [1, weight.size()[0]] {
			return Err(TchError::Torch(format!("oneDNN: product of shape {:?}", out.size())));
		}
		Ok(packed)
	}

	fn packed_product(x: &Tensor, packed: &Tensor) -> Result<Tensor, TchError> {
		let x = x.f_contiguous()?;
		// SAFETY: both tensors outlive the call.
		shim("oneDNN", |error, len| unsafe {
			opg_onednn_linear(x.as_ptr(), packed.as_ptr(), error, len)
		})
	}

	/// Whether f32 products (of any number of rows) run `few_rows.cpp`.
	pub fn is_few_rows(&self) -> bool {
		self.few_rows.is_some() && self.kind == Kind::Float
	}

	/// Whether bf16 products (of any number of rows) run `few_rows.cpp`'s bf16 kernel: on
	/// a CPU with AVX2 whose oneDNN has no bf16 kernels.
	pub fn is_bf16_rows(&self) -> bool {
		self.few_rows.is_some() && self.kind == Kind::BFloat16
	}

	/// Whether it holds the weight as given besides its packed copy (only where some
	/// product reads it).
	pub fn keeps_plain_weight(&self) -> bool {
		self.weight.is_some()
	}

	/// Whether products read a packed copy.
	pub fn is_packed(&self) -> bool {
		self.packed.is_some()
	}

	/// `x · Wᵀ` for `x` of `[rows, in]`: `[rows, out]`.
	pub fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
		let rows = if x.dim() == 2 { x.size()[0] } else { 0 };
		let out = self.out;
		if x.dim() == 2 && rows == 0 {
			return Tensor::f_zeros([0, out], (x.kind(), x.device()));
		}
		match (&self.packed, &self.few_rows, &self.weight) {
			(Some(packed), _, _) if (1..=PACKED_ROWS).contains(&rows) => {
				Self::packed_product(x, packed)
			},
			(_, Some(few), _) if self.kind == Kind::BFloat16 => {
				// SAFETY: both tensors outlive the call.
				shim("bf16 product", |error, len| unsafe {
					opg_bf16_rows_linear(x.as_ptr(), few.as_ptr(), out, error, len)
				})
			},
			(_, Some(few), _) => {
				// SAFETY: both tensors outlive the call.
				shim("few-row product", |error, len| unsafe {
					opg_few_rows_linear(x.as_ptr(), few.as_ptr(), out, error, len)
				})
			},
			(_, None, Some(weight)) => x.f_linear::<Tensor>(weight, None),
			(_, None, None) => Err(TchError::Torch("a product without its weight".into())),
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// SmolLM2-135M's product shapes, `[out, in]`: Q·K·V, O, gate·up, down, the head.
	const SHAPES: [[i64; 2]; 5] = [[960, 576], [576, 576], [3072, 576], [576, 1536], [49152, 576]];

	fn weight(shape: [i64; 2], kind: Kind) -> Tensor {
		Tensor::randn(shape, (Kind::Float, Device::Cpu)).to_kind(kind)
	}

	/// Whether the CPU has what oneDNN's bf16 kernels need (AVX-512 F, BW, VL and DQ).
	fn avx512_core() -> bool {
		std::is_x86_feature_detected!("avx512f")
			&& std::is_x86_feature_detected!("avx512bw")
			&& std::is_x86_feature_detected!("avx512vl")
			&& std::is_x86_feature_detected!("avx512dq")
	}

	#[test]
	fn a_cpu_with_avx512_packs_bf16_weights() {
		if avx512_core() {
			assert!(packs_bf16(), "oneDNN packs bf16 weights on an AVX-512 CPU");
		}
		let linear = Linear::new(weight([64, 32], Kind::BFloat16));
		assert_eq!(linear.is_packed(), packs_bf16());
	}

	#[test]
	fn bf16_weights_on_the_cpu_are_packed_where_onednn_can_and_multiply_bit_for_bit_as_plain_ones()
	{
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(7);
		for shape in SHAPES {
			let w = weight(shape, Kind::BFloat16);
			let (packed, plain) = (Linear::new(w.shallow_clone()), Linear::plain(w));
			assert_eq!(packed.is_packed(), packs_bf16(), "a bf16 {shape:?} weight");
			assert_eq!(packed.is_bf16_rows(), !packs_bf16() && few_rows());
			if !packed.is_packed() {
				// Where oneDNN does not pack, another kernel (tested below) multiplies.
				continue;
			}
			// One row (a decode step), a batch, the most rows packed, and past it (plain).
			for rows in [1, 3, 8, PACKED_ROWS, PACKED_ROWS + 1] {
				let x = Tensor::randn([rows, shape[1]], (Kind::Float, Device::Cpu))
					.to_kind(Kind::BFloat16);
				let (a, b) = (packed.forward(&x).unwrap(), plain.forward(&x).unwrap());
				assert_eq!(a.size(), [rows, shape[0]]);
				assert!(a.equal(&b), "{shape:?} × {rows} rows: packed ≠ plain");
			}
		}
	}

	#[test]
	fn a_non_contiguous_input_multiplies_as_its_contiguous_copy() {
		let _no_grad = tch::no_grad_guard();
		let linear = Linear::new(weight([64, 32], Kind::BFloat16));
		let x = Tensor::randn([4, 2, 32], (Kind::Float, Device::Cpu)).to_kind(Kind::BFloat16);
		let strided = x.select(1, 0);
		assert!(!strided.is_contiguous());
		assert!(linear
			.forward(&strided)
			.unwrap()
			.equal(&linear.forward(&strided.contiguous()).unwrap()));
	}

	#[test]
	fn f32_weights_are_never_packed_for_onednn_and_kept_plain_only_without_the_kernel() {
		let _no_grad = tch::no_grad_guard();
		let w = weight([64, 32], Kind::Float);
		let linear = Linear::new(w.shallow_clone());
		assert!(!linear.is_packed());
		// Where few_rows.cpp multiplies every row, the plain weight is not held twice.
		assert_eq!(linear.keeps_plain_weight(), !few_rows());
		if !few_rows() {
			let x = Tensor::randn([9, 32], (Kind::Float, Device::Cpu));
			assert!(linear.forward(&x).unwrap().equal(&x.linear::<Tensor>(&w, None)));
		}
	}

	#[test]
	fn a_product_of_no_rows_is_empty_not_an_error() {
		let _no_grad = tch::no_grad_guard();
		for kind in [Kind::Float, Kind::BFloat16] {
			let linear = Linear::new(weight([64, 32], kind));
			let none = Tensor::zeros([0, 32], (kind, Device::Cpu));
			let got = linear.forward(&none).unwrap();
			assert_eq!((got.size(), got.kind()), (vec![0, 64], kind));
		}
	}

	/// The worst error of `got` against the f64 product, as a fraction of the largest
	/// `Σ|x_k·w_k|` of an output (what f32 rounding of a sum is proportional to).
	fn relative_error(got: &Tensor, x: &Tensor, w: &Tensor) -> f64 {
		let (x64, w64) = (x.to_kind(Kind::Double), w.to_kind(Kind::Double));
		let exact = x64.linear::<Tensor>(&w64, None);
		let scale = x64.abs().linear::<Tensor>(&w64.abs(), None).max().double_value(&[]);
		(got.to_kind(Kind::Double) - exact).abs().max().double_value(&[]) / scale
	}

	#[test]
	fn f32_products_run_few_rows_cpp_where_the_cpu_has_avx512_or_avx2() {
		let vectors = std::is_x86_feature_detected!("avx512f")
			|| (std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
		assert_eq!(few_rows(), vectors);
		assert_eq!(Linear::new(weight([16, 16], Kind::Float)).is_few_rows(), vectors);
		assert!(!Linear::new(weight([16, 16], Kind::BFloat16)).is_few_rows());
	}

	/// `x · wᵀ` summed as `few_rows.cpp` documents it: each output's products fused-added in
	/// k order in runs of 64, each run's sum added to the total.
	fn in_documented_order(x: &Tensor, w: &Tensor) -> Vec<f32> {
		let (rows, width) = (x.size()[0] as usize, x.size()[1] as usize);
		let outputs = w.size()[0] as usize;
		let x = Vec::<f32>::try_from(x.flatten(0, -1)).unwrap();
		let w = Vec::<f32>::try_from(w.flatten(0, -1)).unwrap();
		let mut y = Vec::with_capacity(rows * outputs);
		for m in 0..rows {
			for n in 0..outputs {
				let mut total = 0f32;
				for run in (0..width).step_by(64) {
					let mut sum = 0f32;
					for k in run..(run + 64).min(width) {
						sum = w[n * width + k].mul_add(x[m * width + k], sum);
					}
					total += sum;
				}
				y.push(total);
			}
		}
		y
	}

	#[test]
	fn f32_products_are_the_documented_sums_to_the_bit_on_every_vector_unit() {
		// AVX-512 and AVX2 machines (verifiers among them) must give the same bits: each
		// kernel sums in the one documented order, for a decode step's few rows (taken
		// together) and a prompt's many (past 8, in groups and a rest).
		// An AVX-512 machine runs both kernels: its own, then AVX2's. Another test running
		// meanwhile sees its products on either, which by this test are the same bits.
		if !few_rows() {
			return;
		}
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(12);
		let avx512 = std::is_x86_feature_detected!("avx512f");
		for avx2_only in [false, true] {
			if avx2_only && !(avx512 && few_rows_avx2_only(true)) {
				break;
			}
			for shape in [[37, 23], [40, 200], [5, 3], [1, 17], [1536 * 2, 576], [100, 1536]] {
				let w = weight(shape, Kind::Float);
				let linear = Linear::new(w.shallow_clone());
				assert!(linear.is_few_rows());
				for rows in (1..=11).chain([16, 17, 43]) {
					let x = Tensor::randn([rows, shape[1]], (Kind::Float, Device::Cpu));
					let got = linear.forward(&x).unwrap().flatten(0, -1);
					let got = Vec::<f32>::try_from(got).unwrap();
					let expected = in_documented_order(&x, &w);
					let same = got.iter().zip(&expected).all(|(a, b)| a.to_bits() == b.to_bits());
					assert!(
						same,
						"{shape:?} × {rows} rows (AVX2 only: {avx2_only}) differ from the \
						 documented order"
					);
				}
			}
		}
		few_rows_avx2_only(false);
	}

	#[test]
	fn f32_products_are_within_f32_rounding_of_the_exact_product() {
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(11);
		// SmolLM2's shapes, and widths that are not a multiple of 16 lanes (a masked
		// last step) or below one.
		let shapes = [SHAPES.as_slice(), &[[37, 23], [5, 3], [3, 1], [1, 17]]].concat();
		for shape in shapes {
			let w = weight(shape, Kind::Float);
			let (linear, plain) =
				(Linear::new(w.shallow_clone()), Linear::plain(w.shallow_clone()));
			for rows in (1..=9).chain([43]) {
				let x = Tensor::randn([rows, shape[1]], (Kind::Float, Device::Cpu));
				let got = linear.forward(&x).unwrap();
				assert_eq!(got.size(), [rows, shape[0]]);
				let error = relative_error(&got, &x, &w);
				assert!(error <= 2e-5, "{shape:?} × {rows} rows: relative error {error}");
				// No worse than a few times MKL's own rounding, plus one ulp's room.
				let plain_error = relative_error(&plain.forward(&x).unwrap(), &x, &w);
				assert!(
					error <= 4.0 * plain_error + 1.2e-7,
					"{shape:?} × {rows} rows: {error} against MKL's {plain_error}"
				);
			}
		}
	}

	#[test]
	fn bf16_products_without_onednn_are_the_documented_f32_sums_rounded_once_to_the_bit() {
		// A bf16 weight and input widen to f32 exactly: the bf16 kernel's answer is the f32
		// kernel's documented sum of the same values, rounded to bf16 once. Run on
		// every CPU with AVX2, oneDNN's bf16 kernels or not.
		if Linear::bf16_rows(weight([16, 16], Kind::BFloat16)).is_none() {
			return;
		}
		let _no_grad = tch::no_grad_guard();
		tch::manual_seed(13);
		for shape in [[37, 23], [40, 200], [5, 3], [1, 17], [960, 576], [100, 1536]] {
			let w = weight(shape, Kind::BFloat16);
			let linear = Linear::bf16_rows(w.shallow_clone()).unwrap();
			assert!(linear.is_bf16_rows() && !linear.is_few_rows());
			// Decode steps, and a prompt's many rows (past 4 in groups, and a rest).
			for rows in [1, 2, 3, 4, 5, 6, 7, 8, 9, 43] {
				let x = Tensor::randn([rows, shape[1]], (Kind::Float, Device::Cpu))
					.to_kind(Kind::BFloat16);
				let got = linear.forward(&x).unwrap();
				assert_eq!((got.kind(), got.size()), (Kind::BFloat16, vec![rows, shape[0]]));
				let sums = in_documented_order(&x.to_kind(Kind::Float), &w.to_kind(Kind::Float));
				let expected =
					Tensor::from_slice(&sums).view([rows, shape[0]]).to_kind(Kind::BFloat16);
				assert!(
					got.equal(&expected),
					"{shape:?} × {rows} rows differ from the documented order"
				);
			}
		}
	}

	/// Whether each of `x`'s rows multiplies by `linear` to the same bits as the same row
	/// alone.
	fn every_row_as_alone(linear: &Linear, x: &Tensor) -> Result<(), String> {
		let together = linear.forward(x).unwrap();
		for row in 0..x.size()[0] {
			let alone = linear.forward(&x.narrow(0, row, 1)).unwrap();
			if !alone.equal(&together.narrow(0, row, 1)) {
				return Err(format!("row {row} of {}", x.size()[0]));
			}
		}
		Ok(())
	}

	#[test]
	fn a_bf16_row_multiplies_to_the_same_bits_whatever_rows_run_beside_it() {
		let Some(linear) = Linear::bf16_rows(weight([100, 64], Kind::BFloat16)) else {
			return;
		};
		let _no_grad = tch::no_grad_guard();
		let x = Tensor::randn([11, 64], (Kind::Float, Device::Cpu)).to_kind(Kind::BFloat16);
		every_row_as_alone(&linear, &x).unwrap();
	}

	#[test]
	fn an_f32_prompts_row_multiplies_to_the_same_bits_as_that_row_decoded_alone() {
		// A verifier's prefill over prompt and answer then multiplies each position as the
		// serving node's decode step did.
		if !few_rows() {
			return;
		}
		let _no_grad = tch::no_grad_guard();
		let linear = Linear::new(weight([100, 64], Kind::Float));
		for rows in [8, 11, 43] {
			let x = Tensor::randn([rows, 64], (Kind::Float, Device::Cpu));
			every_row_as_alone(&linear, &x).unwrap();
		}
	}

	/// Whether a product of `rows` rows against a `[3072, 576]` weight of `kind` gives the
	/// same bits on one thread as on two.
	fn same_bits_on_one_thread_as_on_two(kind: Kind, rows: i64) -> bool {
		let _no_grad = tch::no_grad_guard();
		let threads = tch::get_num_threads();
		let linear = Linear::new(weight([3072, 576], kind));
		let x = Tensor::randn([rows, 576], (Kind::Float, Device::Cpu)).to_kind(kind);
		tch::set_num_threads(1);
		let one = linear.forward(&x).unwrap();
		tch::set_num_threads(2);
		let two = linear.forward(&x).unwrap();
		tch::set_num_threads(threads);
		one.equal(&two)
	}

	#[test]
	fn a_bf16_product_is_the_same_bits_on_one_thread_as_on_two() {
		// A decode step's few rows (widened in registers) and a prompt's (block by block).
		assert!(same_bits_on_one_thread_as_on_two(Kind::BFloat16, 6));
		assert!(same_bits_on_one_thread_as_on_two(Kind::BFloat16, 13));
	}

	#[test]
	fn a_bf16_product_of_the_wrong_width_or_kind_is_an_error_not_a_crash() {
		let linear = Linear::new(weight([64, 32], Kind::BFloat16));
		let wide = Tensor::randn([2, 33], (Kind::Float, Device::Cpu)).to_kind(Kind::BFloat16);
		assert!(linear.forward(&wide).is_err());
		let f32 = Tensor::randn([2, 32], (Kind::Float, Device::Cpu));
		assert!(linear.forward(&f32).is_err());
	}

	#[test]
	fn an_f32_product_is_the_same_bits_on_one_thread_as_on_two() {
		// A decode step's few rows and a prompt's.
		assert!(same_bits_on_one_thread_as_on_two(Kind::Float, 3));
		assert!(same_bits_on_one_thread_as_on_two(Kind::Float, 13));
	}

	#[test]
	fn a_non_contiguous_f32_input_multiplies_as_its_contiguous_copy() {
		let _no_grad = tch::no_grad_guard();
		let linear = Linear::new(weight([64, 32], Kind::Float));
		let x = Tensor::randn([4, 2, 32], (Kind::Float, Device::Cpu));
		let strided = x.select(1, 1);
		assert!(!strided.is_contiguous());
		let (a, b) =
			(linear.forward(&strided).unwrap(), linear.forward(&strided.contiguous()).unwrap());
		assert!(a.equal(&b));
	}

	#[test]
	fn a_few_row_f32_product_of_the_wrong_width_is_an_error_not_a_crash() {
		let linear = Linear::new(weight([64, 32], Kind::Float));
		let x = Tensor::randn([2, 33], (Kind::Float, Device::Cpu));
		assert!(linear.forward(&x).is_err());
	}

	#[test]
	fn a_packed_product_of_the_wrong_width_is_an_error_not_a_crash() {
		let linear = Linear::new(weight([64, 32], Kind::BFloat16));
		let x = Tensor::randn([2, 33], (Kind::Float, Device::Cpu)).to_kind(Kind::BFloat16);
		let error = linear.forward(&x).unwrap_err().to_string();
		// The packed product's own error where it runs; libtorch's plain one's elsewhere.
		assert_eq!(error.contains("oneDNN"), linear.is_packed(), "{error}");
	}
}
