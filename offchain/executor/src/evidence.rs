//! TEE evidence binding the node key the executor holds: a Nitro attestation document
//! whose `public_key` is the node key, `user_data` the [`Binding`] digest (key, genesis
//! hash, challenge nonce, operator account) and `nonce` the chain's challenge, which the
//! node registry verifies (`nodeRegistry.submitAttestation`, by that operator).
//!
//! With an evidence source the executor generates its node key at start, in memory: the
//! key never exists outside the enclave, so no one, the operator included, can sign as
//! the attested node without running it (`serve --node-key` is refused with
//! `--evidence`).
//!
//! - `dev`: development documents from `opg-dev-evidence` (a development CA that only dev
//!   and local chains trust; they prove nothing about hardware);
//! - `nitro` (cargo feature `nitro`, inside an AWS Nitro Enclave): the Nitro Secure
//!   Module (`/dev/nsm`) signs the document under AWS's root.

use opg_attestation::Binding;

/// Where attestation documents come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvidenceSource {
	/// Development documents (dev and local chains only).
	Development,
	/// The enclave's Nitro Secure Module.
	#[cfg(feature = "nitro")]
	Nitro,
}

impl EvidenceSource {
	/// `dev`, or `nitro` when built with the `nitro` feature.
	pub fn parse(text: &str) -> Result<Self, String> {
		match text {
			"dev" => Ok(Self::Development),
			#[cfg(feature = "nitro")]
			"nitro" => Ok(Self::Nitro),
			#[cfg(not(feature = "nitro"))]
			"nitro" => Err("this executor was built without the `nitro` feature".into()),
			other => Err(format!("{other:?} is not an evidence source: use dev or nitro")),
		}
	}

	/// A document binding `node_key` to the chain `genesis`, challenge `nonce` and the
	/// `operator` account (SCALE-encoded) that will submit it.
	pub fn document(
		self,
		node_key: &[u8; 32],
		genesis: &[u8; 32],
		nonce: &[u8; 32],
		operator: &[u8],
	) -> Result<Vec<u8>, String> {
		let binding = Binding { node_key, genesis_hash: genesis, nonce, operator };
		match self {
			Self::Development => {
				let now = std::time::SystemTime::now()
					.duration_since(std::time::UNIX_EPOCH)
					.map_err(|e| e.to_string())?
					.as_secs();
				let request = opg_dev_evidence::DocumentRequest {
					node_key: *binding.node_key,
					genesis_hash: *binding.genesis_hash,
					nonce: *binding.nonce,
					operator: binding.operator.to_vec(),
					pcrs: opg_dev_evidence::Pcrs::development(opg_dev_evidence::DEVELOPMENT_IMAGE),
					now,
				};
				opg_dev_evidence::nitro_document(&request).map_err(|e| e.to_string())
			},
			#[cfg(feature = "nitro")]
			Self::Nitro => nsm_document(&binding),
		}
	}
}

/// Asks the Nitro Secure Module for a document binding `binding`.
#[cfg(feature = "nitro")]
fn nsm_document(binding: &Binding) -> Result<Vec<u8>, String> {
	use aws_nitro_enclaves_nsm_api::{
		api::{Request, Response},
		driver,
	};
	use serde_bytes::ByteBuf;
	let fd = driver::nsm_init();
	if fd < 0 {
		return Err("no Nitro Secure Module (/dev/nsm): not inside a Nitro Enclave".into());
	}
	let request = Request::Attestation {
		user_data: Some(ByteBuf::from(binding.digest().to_vec())),
		nonce: Some(ByteBuf::from(binding.nonce.to_vec())),
		public_key: Some(ByteBuf::from(binding.node_key.to_vec())),
	};
	let response = driver::nsm_process_request(fd, request);
	driver::nsm_exit(fd);
	match response {
		Response::Attestation { document } => Ok(document),
		Response::Error(code) => Err(format!("the Nitro Secure Module refused: {code:?}")),
		other => Err(format!("unexpected answer from the Nitro Secure Module: {other:?}")),
	}
}
