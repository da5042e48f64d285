# Shared environment for OPG scripts: Debian's Rust toolchain first on PATH
# and one persistent target directory outside the clone.
# shellcheck shell=bash
OPG_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export OPG_ROOT
export OPG_CACHE="${OPG_CACHE:-$HOME/.cache/opg}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$OPG_CACHE/target}"
# The target directory is outside the clone: tell wasm-builder where Cargo.lock is.
export WASM_BUILD_WORKSPACE_HINT="$OPG_ROOT"
# Debian's rustc-web (1.96) + rust-lld build both the native node and the wasm runtime.
export PATH="/usr/bin:$OPG_ROOT/node_modules/.bin:$PATH"
export RUSTC=/usr/bin/rustc
export CARGO=/usr/bin/cargo
# Two cores: one job per core, and no incremental artefacts in a release build.
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
OPG_NODE_BIN="$CARGO_TARGET_DIR/release/opg-node"
export OPG_NODE_BIN

log() { printf '\033[1m[opg]\033[0m %s\n' "$*" >&2; }

# The executor's own workspace links libtorch from PyPI's torch wheel, installed by
# scripts/setup in this virtual environment (see docs/build.md).
export OPG_VENV="${OPG_VENV:-$OPG_CACHE/venv}"
OPG_EXECUTOR_BIN="$CARGO_TARGET_DIR/release/opg-executor"
export OPG_EXECUTOR_BIN
# Runs a command (a cargo build or test of offchain/executor) against that libtorch.
with_torch() {
  VIRTUAL_ENV="$OPG_VENV" PATH="$OPG_VENV/bin:$PATH" LIBTORCH_USE_PYTORCH=1 "$@"
}

# The Python SDK (sdk/python) in its own virtual environment: `opg` and the tests' Python.
export OPG_SDK_VENV="${OPG_SDK_VENV:-$OPG_CACHE/sdk-venv}"
# Installs the SDK there, with the extras in $1 (e.g. "[test]").
sdk_install() {
  [ -x "$OPG_SDK_VENV/bin/python" ] || python3 -m venv "$OPG_SDK_VENV"
  "$OPG_SDK_VENV/bin/pip" install --quiet --progress-bar off "$OPG_ROOT/sdk/python${1:-}"
}
