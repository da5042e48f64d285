//! Links the executor against the libtorch that `torch-sys` found, with an rpath to its
//! folder, so that the binary runs without `LD_LIBRARY_PATH`; records which Python (the
//! project's virtual environment) provided it, for the tests' reference outputs; and
//! compiles what of libtorch tch does not bind: the deterministic-algorithms switch
//! (src/determinism.cpp), oneDNN's packed linear weights (src/llm/onednn.cpp), the
//! few-row f32 products of decode steps (src/llm/few_rows.cpp) and the decoder's small
//! f32 steps (src/llm/fused.cpp).

fn main() {
	println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
	println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
	let lib = std::env::var("DEP_TCH_LIBTORCH_LIB")
		.expect("torch-sys reports the libtorch folder on Linux");
	println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
	// libtorch_cuda registers the CUDA backend from its static initializers; no symbol of
	// it is referenced, so the linker's --as-needed would drop it and leave CUDA unseen.
	if std::path::Path::new(&lib).join("libtorch_cuda.so").exists() {
		println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
	}
	// libtorch_cpu.so pulls in the CUDA runtime of the wheel's nvidia-* packages; the
	// libraries find those through their own RUNPATH, relative to this folder.
	println!("cargo:rustc-link-arg=-Wl,--disable-new-dtags");
	let python = match std::env::var("VIRTUAL_ENV") {
		Ok(venv) => format!("{venv}/bin/python"),
		Err(_) => "python3".into(),
	};
	println!("cargo:rustc-env=OPG_TORCH_PYTHON={python}");

	// The shims, against the same libtorch headers and C++ ABI.
	println!("cargo:rerun-if-changed=src/determinism.cpp");
	println!("cargo:rerun-if-changed=src/llm/onednn.cpp");
	println!("cargo:rerun-if-changed=src/llm/few_rows.cpp");
	println!("cargo:rerun-if-changed=src/llm/fused.cpp");
	println!("cargo:rerun-if-changed=src/llm/shim.h");
	let abi = std::process::Command::new(&python)
		.args(["-c", "import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))"])
		.output()
		.ok()
		.and_then(|out| String::from_utf8(out.stdout).ok())
		.map(|text| text.trim().to_owned())
		.filter(|abi| abi == "0" || abi == "1")
		.expect("the venv's torch reports its C++ ABI");
	let include = std::path::Path::new(&lib)
		.parent()
		.expect("torch/lib has a parent")
		.join("include");
	cc::Build::new()
		.cpp(true)
		.file("src/determinism.cpp")
		.file("src/llm/onednn.cpp")
		.file("src/llm/few_rows.cpp")
		.file("src/llm/fused.cpp")
		.include(&include)
		.flag("-std=c++17")
		// at::parallel_for's OpenMP loop is in the headers: compiled here, against the
		// wheel's own libgomp (linked below), the one runtime libtorch's threads run on.
		.flag("-fopenmp")
		// Products and sums rounded as written (the rotary embedding gives the tensor
		// code's bits), whichever CPU a function is compiled for.
		.flag("-ffp-contract=off")
		.flag(format!("-D_GLIBCXX_USE_CXX11_ABI={abi}"))
		.warnings(false)
		.compile("opg_torch_shims");
	println!("cargo:rustc-link-search=native={lib}");
	println!("cargo:rustc-link-lib=dylib:+verbatim=libgomp.so.1");
}
