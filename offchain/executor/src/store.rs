//! A content-addressed artifact store: files named by the hex SHA-256 of their bytes,
//! verified on every read.
//!
//! Two kinds of artifact live in it ([`Kind`]): **pinned** ones (models, uploads, what
//! the operator put) stay until the operator removes them; **cached** ones (outputs,
//! inputs fetched for a request, a data node's fetches, copies from peers) may be evicted,
//! oldest first, once they are older than the retention period, to keep the store under
//! its quota. The retention period outlasts any request's window, so an output is evicted
//! only after its request settled and its requester had time to fetch it.
//!
//! A file whose bytes no longer hash to its name (a partial write by another program,
//! bit rot) is removed when found, so that the next fetch stores a good copy in its place
//! instead of failing forever.
//!
//! An artifact of a `Private` request is readable only by the requester's account
//! ([`ArtifactStore::readers`]); the HTTP layer checks the requester's signature.

use sha2::{Digest, Sha256};
use std::{
	collections::HashSet,
	fs, io,
	path::{Path, PathBuf},
	sync::{Arc, Mutex},
	time::{Duration, SystemTime},
};

/// A SHA-256 digest.
pub type ContentHash = [u8; 32];

/// An account allowed to read a private artifact: an sr25519 public key.
pub type Account = [u8; 32];

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
	/// Storing the bytes would exceed the quota even after evicting every cached artifact
	/// past its retention period.
	Full {
		/// The bytes to store.
		needed: u64,
		/// The store's quota.
		quota: u64,
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
			Self::Full { needed, quota } => write!(
				f,
				"artifact store full: {needed} more bytes do not fit its quota of {quota} bytes"
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

/// How long an artifact stays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
	/// Until the operator removes it: models, uploads.
	Pinned,
	/// Evictable once older than the retention period: outputs, fetched inputs, copies.
	Cached,
}

/// The store's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
	/// Bytes of artifacts at most; `None`: no quota.
	pub quota: Option<u64>,
	/// How long a cached artifact is kept at least.
	pub retention: Duration,
}

/// One day: far longer than any request's window, so a requester has time to fetch an
/// output after its request settled.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(24 * 3600);

impl Default for Limits {
	fn default() -> Self {
		Self { quota: None, retention: DEFAULT_RETENTION }
	}
}

/// Marker folder of cached artifacts: an empty file per artifact, its mtime when stored.
const CACHED: &str = ".cached";
/// Folder of private artifacts' readers: a file per artifact, 32 bytes per account.
const PRIVATE: &str = ".private";
/// Folder of the index of language models' on-chain answers' evidence: a file per answer,
/// named by chain, request and output, holding the hash of the cached artifact that is
/// the evidence ([`ArtifactStore::keep_evidence`]).
const EVIDENCE: &str = ".evidence";

#[derive(Debug, Default)]
struct State {
	/// Bytes of artifacts in the folder.
	used: u64,
	/// Artifacts whose bytes were checked since the store was opened.
	verified: HashSet<ContentHash>,
}

/// Artifacts in one folder.
#[derive(Clone, Debug)]
pub struct ArtifactStore {
	dir: PathBuf,
	limits: Limits,
	state: Arc<Mutex<State>>,
}

impl ArtifactStore {
	/// Opens (and creates) the store at `dir`, without a quota.
	pub fn open(dir: impl Into<PathBuf>) -> io::Result<Self> {
		Self::open_with(dir, Limits::default())
	}

	/// Opens (and creates) the store at `dir` with `limits`; removes the partial files of
	/// writes that never finished.
	pub fn open_with(dir: impl Into<PathBuf>, limits: Limits) -> io::Result<Self> {
		let dir = dir.into();
		fs::create_dir_all(dir.join(CACHED))?;
		fs::create_dir_all(dir.join(PRIVATE))?;
		fs::create_dir_all(dir.join(EVIDENCE))?;
		let mut used = 0;
		for entry in fs::read_dir(&dir)? {
			let entry = entry?;
			let name = entry.file_name();
			let name = name.to_string_lossy();
			if name.ends_with(".partial") {
				let _ = fs::remove_file(entry.path());
			} else if !name.starts_with('.') && entry.file_type()?.is_file() {
				used += entry.metadata()?.len();
			}
		}
		let state = State { used, verified: HashSet::new() };
		Ok(Self { dir, limits, state: Arc::new(Mutex::new(state)) })
	}

	/// The folder.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	/// Bytes of artifacts stored.
	pub fn used(&self) -> u64 {
		self.lock().used
	}

	fn lock(&self) -> std::sync::MutexGuard<'_, State> {
		self.state.lock().expect("no panic holds the lock")
	}

	fn path(&self, hash: &ContentHash) -> PathBuf {
		self.dir.join(hex::encode(hash))
	}

	fn marker(&self, hash: &ContentHash) -> PathBuf {
		self.dir.join(CACHED).join(hex::encode(hash))
	}

	fn readers_path(&self, hash: &ContentHash) -> PathBuf {
		self.dir.join(PRIVATE).join(hex::encode(hash))
	}

	/// Whether the artifact `hash` is stored with the right bytes. The bytes are checked
	/// once per artifact after the store opens; a corrupt file is removed (answering
	/// `false`), so that the caller fetches a good copy.
	pub fn contains(&self, hash: &ContentHash) -> bool {
		if !self.path(hash).is_file() {
			return false;
		}
		if self.lock().verified.contains(hash) {
			return true;
		}
		matches!(self.get(hash), Ok(Some(_)))
	}

	/// Stores `bytes` as a pinned artifact and returns their hash.
	pub fn put(&self, bytes: &[u8]) -> Result<ContentHash, StoreError> {
		self.put_kind(bytes, Kind::Pinned)
	}

	/// Stores `bytes` as a cached artifact (evictable after the retention period) and
	/// returns their hash. Bytes already stored pinned stay pinned.
	pub fn put_cached(&self, bytes: &[u8]) -> Result<ContentHash, StoreError> {
		self.put_kind(bytes, Kind::Cached)
	}

	/// Stores `bytes` as `kind` and returns their hash. An artifact already stored
	/// becomes pinned if `kind` is; a corrupt copy is replaced.
	pub fn put_kind(&self, bytes: &[u8], kind: Kind) -> Result<ContentHash, StoreError> {
		let hash = sha256(bytes);
		let path = self.path(&hash);
		if self.contains(&hash) {
			match kind {
				Kind::Pinned => {
					let _ = fs::remove_file(self.marker(&hash));
				},
				// Stored again: its retention starts again (if it is cached at all).
				Kind::Cached => {
					if self.marker(&hash).exists() {
						fs::write(self.marker(&hash), [])?;
					}
				},
			}
			return Ok(hash);
		}
		self.make_room(bytes.len() as u64)?;
		if kind == Kind::Cached {
			fs::write(self.marker(&hash), [])?;
		}
		// Write then rename, so a reader never sees a partial file. Each write has its own
		// partial file: the same bytes stored at once by two requests (the same output)
		// rename two whole copies, the second over the first.
		static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
		let write = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
		let partial = self.dir.join(format!(".{}.{write}.partial", hex::encode(hash)));
		if let Err(error) = fs::write(&partial, bytes).and_then(|()| fs::rename(&partial, &path)) {
			let _ = fs::remove_file(&partial);
			return Err(error.into());
		}
		let mut state = self.lock();
		// Counted once however many requests stored it at once.
		if state.verified.insert(hash) {
			state.used += bytes.len() as u64;
		}
		Ok(hash)
	}

	/// Stores `bytes` as `kind` only if they hash to `expected`.
	pub fn put_expecting(
		&self,
		expected: &ContentHash,
		bytes: &[u8],
		kind: Kind,
	) -> Result<(), StoreError> {
		let found = sha256(bytes);
		if &found != expected {
			return Err(StoreError::HashMismatch { expected: *expected, found });
		}
		self.put_kind(bytes, kind).map(|_| ())
	}

	/// Evicts cached artifacts past their retention, oldest first, until `needed` more
	/// bytes fit the quota.
	fn make_room(&self, needed: u64) -> Result<(), StoreError> {
		let Some(quota) = self.limits.quota else { return Ok(()) };
		if self.used().saturating_add(needed) <= quota {
			return Ok(());
		}
		let now = SystemTime::now();
		let mut evictable: Vec<(SystemTime, ContentHash)> = fs::read_dir(self.dir.join(CACHED))?
			.filter_map(|entry| {
				let entry = entry.ok()?;
				let hash = crate::http::parse_hash(&entry.file_name().to_string_lossy())?;
				let stored = entry.metadata().ok()?.modified().ok()?;
				let age = now.duration_since(stored).unwrap_or_default();
				(age >= self.limits.retention).then_some((stored, hash))
			})
			.collect();
		evictable.sort();
		for (_, hash) in evictable {
			if self.used().saturating_add(needed) <= quota {
				break;
			}
			self.remove(&hash)?;
			tracing::info!(artifact = %format!("0x{}", hex::encode(hash)), "evicted");
		}
		if self.used().saturating_add(needed) <= quota {
			Ok(())
		} else {
			Err(StoreError::Full { needed, quota })
		}
	}

	/// Removes the artifact `hash` (and its marks); nothing if it is not stored.
	pub fn remove(&self, hash: &ContentHash) -> Result<(), StoreError> {
		let path = self.path(hash);
		let size = match fs::metadata(&path) {
			Ok(metadata) => metadata.len(),
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
			Err(e) => return Err(e.into()),
		};
		fs::remove_file(&path)?;
		let _ = fs::remove_file(self.marker(hash));
		let _ = fs::remove_file(self.readers_path(hash));
		let mut state = self.lock();
		state.used = state.used.saturating_sub(size);
		state.verified.remove(hash);
		Ok(())
	}

	/// The artifact `hash`, if stored. A file whose bytes no longer hash to `hash` is
	/// removed and reported missing, so that a good copy can take its place.
	pub fn get(&self, hash: &ContentHash) -> Result<Option<Vec<u8>>, StoreError> {
		let bytes = match fs::read(self.path(hash)) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		let found = sha256(&bytes);
		if &found != hash {
			tracing::warn!(
				artifact = %format!("0x{}", hex::encode(hash)),
				found = %format!("0x{}", hex::encode(found)),
				"a stored file does not hash to its name: removed, to be fetched again"
			);
			self.remove(hash)?;
			return Ok(None);
		}
		self.lock().verified.insert(*hash);
		Ok(Some(bytes))
	}

	/// Makes the artifact `hash` readable by `account` only (and by the other accounts
	/// already allowed): a private request's input or output.
	pub fn restrict(&self, hash: &ContentHash, account: &Account) -> Result<(), StoreError> {
		let mut readers = self.readers(hash)?.unwrap_or_default();
		if !readers.contains(account) {
			readers.push(*account);
			fs::write(self.readers_path(hash), readers.concat())?;
		}
		Ok(())
	}

	/// Forgets the readers of artifact `hash` if it is not stored (a private input that
	/// never came).
	pub fn drop_readers_if_absent(&self, hash: &ContentHash) -> Result<(), StoreError> {
		if !self.path(hash).exists() {
			match fs::remove_file(self.readers_path(hash)) {
				Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e.into()),
				_ => {},
			}
		}
		Ok(())
	}

	/// The accounts that alone may read the artifact `hash`; `None` if anyone may.
	pub fn readers(&self, hash: &ContentHash) -> Result<Option<Vec<Account>>, StoreError> {
		match fs::read(self.readers_path(hash)) {
			Ok(bytes) => Ok(Some(
				bytes
					.chunks_exact(32)
					.map(|chunk| chunk.try_into().expect("chunks of 32"))
					.collect(),
			)),
			Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
			Err(e) => Err(e.into()),
		}
	}

	/// Keeps `evidence` (cached: evictable after the retention period, as outputs are) as
	/// what backs the answer whose output hashes to `output` to request `request` of chain
	/// `genesis`, readable by `reader` alone when given (a private request's requester; its
	/// verifiers read it on a permission the chain backs), and forgets the index entries
	/// older than the retention period.
	pub fn keep_evidence(
		&self,
		genesis: &ContentHash,
		request: u64,
		output: &ContentHash,
		evidence: &[u8],
		reader: Option<&Account>,
	) -> Result<(), StoreError> {
		if let Some(reader) = reader {
			self.restrict(&sha256(evidence), reader)?;
		}
		let hash = self.put_cached(evidence)?;
		let folder = self.dir.join(EVIDENCE);
		let now = SystemTime::now();
		for entry in fs::read_dir(&folder)?.flatten() {
			let stored = entry.metadata().and_then(|m| m.modified()).unwrap_or(now);
			if now.duration_since(stored).unwrap_or_default() > self.limits.retention {
				let _ = fs::remove_file(entry.path());
			}
		}
		fs::write(folder.join(evidence_name(genesis, request, output)), hash)?;
		Ok(())
	}

	/// The evidence kept for the answer whose output hashes to `output` to request
	/// `request` of chain `genesis`, and whether it is private (its readers are
	/// restricted); `None` if none was kept, or it was evicted.
	pub fn evidence(
		&self,
		genesis: &ContentHash,
		request: u64,
		output: &ContentHash,
	) -> Result<Option<(Vec<u8>, bool)>, StoreError> {
		let index = self.dir.join(EVIDENCE).join(evidence_name(genesis, request, output));
		let hash = match fs::read(index) {
			Ok(bytes) => match ContentHash::try_from(bytes.as_slice()) {
				Ok(hash) => hash,
				Err(_) => return Ok(None),
			},
			Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
			Err(e) => return Err(e.into()),
		};
		let private = self.readers(&hash)?.is_some();
		Ok(self.get(&hash)?.map(|bytes| (bytes, private)))
	}
}

/// The index file's name of an answer's evidence.
fn evidence_name(genesis: &ContentHash, request: u64, output: &ContentHash) -> String {
	format!("{}-{request}-{}", hex::encode(genesis), hex::encode(output))
}
