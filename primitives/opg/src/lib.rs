//! # OPG primitives
//!
//! The words every part of OPG speaks, defined once: what identifies a node, a model, a
//! request and a piece of content; the evidence a result may carry; the tensor schema of a
//! model and what a request needs to know about it; and the traits the pallets implement
//! for each other, so that a pallet depends on this crate and not on another pallet.
//!
//! FRAME-free and `no_std`. Features:
//! - `chain` (default): [`NodeKey`] (sp-core's sr25519 public key) and the traits that
//!   name it ([`InferenceNodes`], [`NodeSlashing`]);
//! - `serde`: JSON (de)serialization of [`Schema`] and [`Tolerance`], as the executor's model configuration
//!   files write it (`{"inputs": [{"shape": [1, 784], "dtype": "f32"}], ...}`).
//!
//! The SCALE encodings and type names are those the pallets stored and published before
//! this crate existed: clients decode them from the metadata as before.

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

mod channels;
mod hardware;
mod ids;
mod modes;
mod reads;
mod schema;
mod serving;
mod tolerance;
mod traits;

pub use bounded_collections::{BoundedVec, ConstU32, Get};
pub use channels::*;
/// The SCALE codec these types encode with, for users that decode them off chain (the
/// executor reading [`ModelServing`]) without naming the crate themselves.
pub use codec;
pub use hardware::*;
pub use ids::*;
pub use modes::*;
pub use reads::*;
pub use schema::*;
pub use serving::*;
pub use tolerance::*;
pub use traits::*;
