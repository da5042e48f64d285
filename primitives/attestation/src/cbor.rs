//! A strict CBOR (RFC 8949) decoder and encoder for the data model attestation formats use:
//! integers, byte and text strings, arrays, maps, tags, booleans and null. Definite and
//! indefinite lengths are both accepted; floats, undefined and other simple values are
//! not. Map keys keep their order and duplicates, so callers can reject them.

use alloc::{boxed::Box, string::String, vec::Vec};

/// Deepest nesting accepted, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 16;

/// A decoded CBOR item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
	/// Major type 0: an unsigned integer.
	Unsigned(u64),
	/// Major type 1: the integer `-1 - n`.
	Negative(u64),
	/// Major type 2.
	Bytes(Vec<u8>),
	/// Major type 3 (valid UTF-8).
	Text(String),
	/// Major type 4.
	Array(Vec<Value>),
	/// Major type 5, entries in encoded order.
	Map(Vec<(Value, Value)>),
	/// Major type 6.
	Tag(u64, Box<Value>),
	/// Simple values 20 and 21.
	Bool(bool),
	/// Simple value 22.
	Null,
}

/// Why bytes are not acceptable CBOR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CborError {
	/// The input ends inside an item.
	UnexpectedEnd,
	/// Bytes remain after the top-level item.
	TrailingBytes,
	/// Reserved additional information, or an indefinite length where none is allowed.
	InvalidHeader,
	/// A float, `undefined` or another simple value this decoder does not accept.
	UnsupportedItem,
	/// A text string is not UTF-8.
	InvalidUtf8,
	/// An indefinite-length string holds a chunk of another type.
	InvalidChunk,
	/// Nesting deeper than the decoder accepts.
	TooDeep,
	/// A length does not fit in memory.
	TooLong,
}

/// Decodes exactly one item spanning all of `bytes`.
pub fn decode(bytes: &[u8]) -> Result<Value, CborError> {
	let mut reader = Reader { bytes, position: 0 };
	let value = reader.item(0)?;
	if reader.position != bytes.len() {
		return Err(CborError::TrailingBytes);
	}
	Ok(value)
}

/// Encodes `value` with definite, shortest-form lengths.
pub fn encode(value: &Value) -> Vec<u8> {
	let mut out = Vec::new();
	write(&mut out, value);
	out
}

struct Reader<'a> {
	bytes: &'a [u8],
	position: usize,
}

/// The argument of an item header: a number, or "indefinite".
enum Argument {
	Value(u64),
	Indefinite,
}

const BREAK: u8 = 0xff;

impl Reader<'_> {
	fn byte(&mut self) -> Result<u8, CborError> {
		let byte = *self.bytes.get(self.position).ok_or(CborError::UnexpectedEnd)?;
		self.position += 1;
		Ok(byte)
	}

	fn take(&mut self, len: u64) -> Result<&[u8], CborError> {
		let len = usize::try_from(len).map_err(|_| CborError::TooLong)?;
		let end = self.position.checked_add(len).ok_or(CborError::TooLong)?;
		let slice = self.bytes.get(self.position..end).ok_or(CborError::UnexpectedEnd)?;
		self.position = end;
		Ok(slice)
	}

	fn at_break(&mut self) -> Result<bool, CborError> {
		if *self.bytes.get(self.position).ok_or(CborError::UnexpectedEnd)? == BREAK {
			self.position += 1;
			return Ok(true);
		}
		Ok(false)
	}

	fn header(&mut self) -> Result<(u8, u8, Argument), CborError> {
		let initial = self.byte()?;
		let (major, info) = (initial >> 5, initial & 0x1f);
		let argument = match info {
			0..=23 => Argument::Value(info as u64),
			24..=27 => {
				let width = 1usize << (info - 24);
				let mut value = 0u64;
				for byte in self.take(width as u64)? {
					value = (value << 8) | *byte as u64;
				}
				Argument::Value(value)
			},
			31 => Argument::Indefinite,
			_ => return Err(CborError::InvalidHeader),
		};
		Ok((major, info, argument))
	}

	fn item(&mut self, depth: usize) -> Result<Value, CborError> {
		if depth > MAX_DEPTH {
			return Err(CborError::TooDeep);
		}
		let (major, info, argument) = self.header()?;
		match (major, argument) {
			(0, Argument::Value(n)) => Ok(Value::Unsigned(n)),
			(1, Argument::Value(n)) => Ok(Value::Negative(n)),
			(2, argument) => self.string(2, argument).map(Value::Bytes),
			(3, argument) => String::from_utf8(self.string(3, argument)?)
				.map(Value::Text)
				.map_err(|_| CborError::InvalidUtf8),
			(4, Argument::Value(len)) => {
				let mut items = Vec::new();
				for _ in 0..len {
					items.push(self.item(depth + 1)?);
				}
				Ok(Value::Array(items))
			},
			(4, Argument::Indefinite) => {
				let mut items = Vec::new();
				while !self.at_break()? {
					items.push(self.item(depth + 1)?);
				}
				Ok(Value::Array(items))
			},
			(5, Argument::Value(len)) => {
				let mut entries = Vec::new();
				for _ in 0..len {
					entries.push((self.item(depth + 1)?, self.item(depth + 1)?));
				}
				Ok(Value::Map(entries))
			},
			(5, Argument::Indefinite) => {
				let mut entries = Vec::new();
				while !self.at_break()? {
					entries.push((self.item(depth + 1)?, self.item(depth + 1)?));
				}
				Ok(Value::Map(entries))
			},
			(6, Argument::Value(tag)) => Ok(Value::Tag(tag, Box::new(self.item(depth + 1)?))),
			(7, Argument::Value(_)) => match info {
				20 => Ok(Value::Bool(false)),
				21 => Ok(Value::Bool(true)),
				22 => Ok(Value::Null),
				_ => Err(CborError::UnsupportedItem),
			},
			_ => Err(CborError::InvalidHeader),
		}
	}

	/// A byte or text string: one definite run, or definite chunks of the same type.
	fn string(&mut self, major: u8, argument: Argument) -> Result<Vec<u8>, CborError> {
		match argument {
			Argument::Value(len) => Ok(self.take(len)?.to_vec()),
			Argument::Indefinite => {
				let mut out = Vec::new();
				while !self.at_break()? {
					match self.header()? {
						(chunk_major, _, Argument::Value(len)) if chunk_major == major => {
							out.extend_from_slice(self.take(len)?)
						},
						_ => return Err(CborError::InvalidChunk),
					}
				}
				Ok(out)
			},
		}
	}
}

fn write_header(out: &mut Vec<u8>, major: u8, value: u64) {
	let major = major << 5;
	match value {
		0..=23 => out.push(major | value as u8),
		24..=0xff => out.extend_from_slice(&[major | 24, value as u8]),
		0x100..=0xffff => {
			out.push(major | 25);
			out.extend_from_slice(&(value as u16).to_be_bytes());
		},
		0x1_0000..=0xffff_ffff => {
			out.push(major | 26);
			out.extend_from_slice(&(value as u32).to_be_bytes());
		},
		_ => {
			out.push(major | 27);
			out.extend_from_slice(&value.to_be_bytes());
		},
	}
}

fn write(out: &mut Vec<u8>, value: &Value) {
	match value {
		Value::Unsigned(n) => write_header(out, 0, *n),
		Value::Negative(n) => write_header(out, 1, *n),
		Value::Bytes(bytes) => {
			write_header(out, 2, bytes.len() as u64);
			out.extend_from_slice(bytes);
		},
		Value::Text(text) => {
			write_header(out, 3, text.len() as u64);
			out.extend_from_slice(text.as_bytes());
		},
		Value::Array(items) => {
			write_header(out, 4, items.len() as u64);
			items.iter().for_each(|item| write(out, item));
		},
		Value::Map(entries) => {
			write_header(out, 5, entries.len() as u64);
			for (key, value) in entries {
				write(out, key);
				write(out, value);
			}
		},
		Value::Tag(tag, inner) => {
			write_header(out, 6, *tag);
			write(out, inner);
		},
		Value::Bool(false) => out.push(0xf4),
		Value::Bool(true) => out.push(0xf5),
		Value::Null => out.push(0xf6),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use alloc::vec;

	#[test]
	fn rfc8949_examples_decode() {
		assert_eq!(decode(&[0x00]), Ok(Value::Unsigned(0)));
		assert_eq!(decode(&[0x18, 0x64]), Ok(Value::Unsigned(100)));
		assert_eq!(
			decode(&[0x1b, 0, 0, 0, 0xe8, 0xd4, 0xa5, 0x10, 0x00]),
			Ok(Value::Unsigned(1_000_000_000_000))
		);
		assert_eq!(decode(&[0x38, 0x63]), Ok(Value::Negative(99)));
		assert_eq!(decode(&[0x44, 1, 2, 3, 4]), Ok(Value::Bytes(vec![1, 2, 3, 4])));
		assert_eq!(decode(&[0x62, 0x22, 0x5c]), Ok(Value::Text("\"\\".into())));
		assert_eq!(
			decode(&[0xa2, 0x01, 0x02, 0x03, 0x04]),
			Ok(Value::Map(vec![
				(Value::Unsigned(1), Value::Unsigned(2)),
				(Value::Unsigned(3), Value::Unsigned(4)),
			]))
		);
		assert_eq!(decode(&[0xf6]), Ok(Value::Null));
		assert_eq!(
			decode(&[0xc1, 0x1a, 0x51, 0x4b, 0x67, 0xb0]),
			Ok(Value::Tag(1, Box::new(Value::Unsigned(1_363_896_240))))
		);
	}

	#[test]
	fn indefinite_lengths_decode_like_definite_ones() {
		// (_ h'0102', h'030405')
		assert_eq!(
			decode(&[0x5f, 0x42, 1, 2, 0x43, 3, 4, 5, 0xff]),
			Ok(Value::Bytes(vec![1, 2, 3, 4, 5]))
		);
		// [_ 1, [2, 3], [_ 4, 5]]
		assert_eq!(
			decode(&[0x9f, 0x01, 0x82, 0x02, 0x03, 0x9f, 0x04, 0x05, 0xff, 0xff]),
			Ok(Value::Array(vec![
				Value::Unsigned(1),
				Value::Array(vec![Value::Unsigned(2), Value::Unsigned(3)]),
				Value::Array(vec![Value::Unsigned(4), Value::Unsigned(5)]),
			]))
		);
		// {_ "a": 1}
		assert_eq!(
			decode(&[0xbf, 0x61, 0x61, 0x01, 0xff]),
			Ok(Value::Map(vec![(Value::Text("a".into()), Value::Unsigned(1))]))
		);
	}

	#[test]
	fn bad_input_is_rejected() {
		assert_eq!(decode(&[]), Err(CborError::UnexpectedEnd));
		assert_eq!(decode(&[0x44, 1, 2]), Err(CborError::UnexpectedEnd));
		assert_eq!(decode(&[0x00, 0x00]), Err(CborError::TrailingBytes));
		assert_eq!(decode(&[0x1c]), Err(CborError::InvalidHeader));
		assert_eq!(decode(&[0x1f]), Err(CborError::InvalidHeader));
		assert_eq!(decode(&[0xf9, 0x3c, 0x00]), Err(CborError::UnsupportedItem));
		assert_eq!(decode(&[0xf7]), Err(CborError::UnsupportedItem));
		assert_eq!(decode(&[0x62, 0xff, 0xfe]), Err(CborError::InvalidUtf8));
		assert_eq!(decode(&[0x5f, 0x61, 0x61, 0xff]), Err(CborError::InvalidChunk));
		assert_eq!(decode(&[0x9f, 0x01]), Err(CborError::UnexpectedEnd));
		assert_eq!(
			decode(&[0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
			Err(CborError::TooLong)
		);
		assert_eq!(decode(&[0x81; 40]), Err(CborError::TooDeep));
	}

	#[test]
	fn encode_then_decode_round_trips() {
		let value = Value::Tag(
			18,
			Box::new(Value::Array(vec![
				Value::Bytes(vec![0xa1, 0x01, 0x38, 0x22]),
				Value::Map(vec![]),
				Value::Bytes(vec![7; 300]),
				Value::Map(vec![
					(Value::Text("k".into()), Value::Negative(34)),
					(Value::Unsigned(70_000), Value::Bool(true)),
				]),
				Value::Null,
				Value::Unsigned(u64::MAX),
			])),
		);
		assert_eq!(decode(&encode(&value)), Ok(value));
	}
}
