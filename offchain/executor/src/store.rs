//! A content-addressed artifact store: files named by the hex SHA-256 of their bytes,
//! verified on every read.

use sha2::{Digest, Sha256};
use std::{
	fs, io,
	path::{Path, PathBuf},
};

/// A SHA-256 digest.
pub type ContentHash = [u8; 32];

/// Why the store refused or failed.
#[derive(Debug)]
pub enum StoreError {
	/// The bytes do not hash to the hash they were stored or asked for under.
	HashMismatch {
		/// The hash asked for.
		expected: ContentHash,
		/// The hash of the bytes.
		found: ContentHash,
	},
	/// The file system failed.
	Io(io::Error),
}

impl std::fmt::Display for StoreError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		match self {
			Self::HashMismatch { expected, found } => write!(
				f,
				"bytes hash to 0x{} but 0x{} was expected",
				hex::encode(found),
				hex::encode(expected)
			),
			Self::Io(e) => write!(f, "artifact store: {e}"),
		}
	}
}

impl std::error::Error for StoreError {}

impl From<io::Error> for StoreError {
	fn from(e: io::Error) -> Self {
		Self::Io(e)
	}
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> ContentHash {
	Sha256::digest(bytes).into()
}

/// Artifacts in one folder.
#[derive(Clone, Debug)]
pub struct ArtifactStore {
	dir: PathBuf,
}

impl ArtifactStore {
	/// Opens (and creates) the store at `dir`.
	pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
		let dir = dir.into();
		fs::create_dir_all(&dir)?;
		Ok(Self { dir })
	}

	/// The folder.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	fn path(&self, hash: &ContentHash) -> PathBuf {
		self.dir.join(hex::encode(hash))
	}

	/// Whether the artifact `hash` is stored (not checked: [`Self::get`] checks).
	pub fn contains(&self, hash: &ContentHash) -> bool {
		self.path(hash).is_file()
	}

	/// Stores `bytes` and returns their hash.
	pub fn put(&self, bytes: &[u8]) -> Result<ContentHash, StoreError> {
		let hash = sha256(bytes);
		let path = self.path(&hash);
		if !path.exists() {
			// Write then rename, so a reader never sees a partial file.
			let partial = self.dir.join(format!(".{}.partial", hex::encode(hash)));
			fs::write(&partial, bytes)?;
			fs::rename(&partial, &path)?;
		}
		Ok(hash)
	}

	/// Stores `bytes` only if they hash to `expected`.
	pub fn put_expecting(&self, expected: &ContentHash, bytes: &[u8]) -> Result<(), StoreError> {
		let found = sha256(bytes);
		if &found != expected {
			return Err(StoreError::HashMismatch { expected: *expected, found });
		}
		self.put(bytes).map(|_| ())
	}

	/// The artifact `hash`, if stored; an error if the stored bytes no longer hash to it.
	pub fn get(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
		let bytes = match fs::read(self.path(hash)) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		let found = sha256(&bytes);
		if &found != hash {
			return Err(StoreError::HashMismatch { expected: *hash, found });
		}
		Ok(Some(bytes))
	}
}
