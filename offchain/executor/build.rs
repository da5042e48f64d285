//! Links the executor against the libtorch that `torch-sys` found, with an rpath to its
//! folder, so that the binary runs without `LD_LIBRARY_PATH`; and records which Python
//! (the project's virtual environment) provided it, for the tests' reference outputs.

fn main() {
	println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
	println!("cargo:rerun-if-env-changed=VIRTUAL_ENV");
	let lib = std::env::var("DEP_TCH_LIBTORCH_LIB").expect("torch-sys reports the libtorch folder on Linux");
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
}
