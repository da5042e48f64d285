//! Text in and out: the tokenizer (Hugging Face's `tokenizer.json`, through the
//! `tokenizers` crate, offline), the chat template (the model's Jinja template, through
//! `minijinja`), and decoding an answer token by token with stop sequences.

use serde::{Deserialize, Serialize};

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
	/// `system`, `user`, `assistant` (or another role the template knows).
	pub role: String,
	/// The text.
	pub content: String,
}

/// A model's tokenizer and chat template.
pub struct Text {
	tokenizer: tokenizers::Tokenizer,
	template: Option<String>,
	bos: Option<String>,
	eos: Option<String>,
}

impl Text {
	/// The text side of a model: its `tokenizer.json` and its chat template (if any), with
	/// the bos/eos tokens' text for the template.
	pub fn new(
		tokenizer_json: &[u8],
		template: Option<String>,
		bos: Option<u32>,
		eos: Option<u32>,
	) -> Result<Self, String> {
		let tokenizer = tokenizers::Tokenizer::from_bytes(tokenizer_json)
			.map_err(|e| format!("tokenizer.json: {e}"))?;
		if let Some(template) = &template {
			let mut env = minijinja::Environment::new();
			env.add_template("chat", template).map_err(|e| format!("chat template: {e}"))?;
		}
		let text_of = |id: Option<u32>| id.and_then(|id| tokenizer.id_to_token(id));
		Ok(Self { bos: text_of(bos), eos: text_of(eos), tokenizer, template })
	}

	/// The ids of `text` (special tokens in it are recognised; none is added).
	pub fn encode(&self, text: &str) -> Result<Vec<u32>, String> {
		self.tokenizer
			.encode(text, false)
			.map(|encoding| encoding.get_ids().to_vec())
			.map_err(|e| format!("tokenizing: {e}"))
	}

	/// The text of `ids`, special tokens included.
	pub fn decode(&self, ids: &[u32]) -> Result<String, String> {
		self.tokenizer.decode(ids, false).map_err(|e| format!("detokenizing: {e}"))
	}

	/// The vocabulary's size, special tokens included.
	pub fn vocab_size(&self) -> usize {
		self.tokenizer.get_vocab_size(true)
	}

	/// `messages` rendered by the chat template, ending with the assistant's turn opened
	/// (`add_generation_prompt`).
	pub fn chat_prompt(&self, messages: &[Message]) -> Result<String, String> {
		let template = self.template.as_deref().ok_or("the model has no chat template")?;
		let mut env = minijinja::Environment::new();
		env.add_function(
			"raise_exception",
			|message: String| -> Result<String, minijinja::Error> {
				Err(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message))
			},
		);
		env.add_template("chat", template).map_err(|e| format!("chat template: {e}"))?;
		env.get_template("chat")
			.and_then(|template| {
				template.render(minijinja::context! {
					messages => messages,
					add_generation_prompt => true,
					bos_token => self.bos.clone().unwrap_or_default(),
					eos_token => self.eos.clone().unwrap_or_default(),
				})
			})
			.map_err(|e| format!("chat template: {e}"))
	}
}

/// An answer's text as its tokens arrive: what is safe to send so far (no partial UTF-8
/// character, nothing that may be the start of a stop sequence) and whether a stop
/// sequence ended it.
pub struct Detokenizer {
	ids: Vec<u32>,
	text: String,
	sent: usize,
	stops: Vec<String>,
	stopped: bool,
}

impl Detokenizer {
	/// An empty answer that ends at any of `stops` (which the answer leaves out).
	pub fn new(stops: Vec<String>) -> Self {
		Self {
			ids: Vec::new(),
			text: String::new(),
			sent: 0,
			stops: stops.into_iter().filter(|s| !s.is_empty()).collect(),
			stopped: false,
		}
	}

	/// Adds `id`; returns the text that can be sent now.
	pub fn push(&mut self, text: &Text, id: u32) -> Result<String, String> {
		if self.stopped {
			return Ok(String::new());
		}
		self.ids.push(id);
		let decoded = text.decode(&self.ids)?;
		// A character cut in the middle decodes as U+FFFD: wait for its other bytes.
		if decoded.ends_with('\u{FFFD}') {
			return Ok(String::new());
		}
		self.text = decoded;
		let found = self.stops.iter().filter_map(|stop| self.text.find(stop.as_str())).min();
		if let Some(at) = found {
			self.text.truncate(at);
			self.stopped = true;
			return Ok(self.take(self.text.len()));
		}
		// Hold back a tail that could still grow into a stop sequence.
		let held = self
			.stops
			.iter()
			.flat_map(|stop| {
				(1..stop.len())
					.filter(|&n| stop.is_char_boundary(n))
					.filter(|&n| self.text.ends_with(&stop[..n]))
			})
			.max()
			.unwrap_or(0);
		Ok(self.take(self.text.len() - held))
	}

	/// The rest of the text once the answer ends without a stop sequence.
	pub fn finish(&mut self) -> String {
		self.take(self.text.len())
	}

	/// Whether a stop sequence ended the answer.
	pub fn stopped(&self) -> bool {
		self.stopped
	}

	/// The answer's text so far (stop sequence excluded).
	pub fn text(&self) -> &str {
		&self.text
	}

	fn take(&mut self, end: usize) -> String {
		let end = end.min(self.text.len());
		if end <= self.sent || !self.text.is_char_boundary(self.sent) {
			return String::new();
		}
		let out = self.text[self.sent..end].to_owned();
		self.sent = end;
		out
	}
}
