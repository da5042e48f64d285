//! Plain-HTTP GETs: artifacts from peers and data nodes, and external inputs from URLs.

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use std::time::Duration;

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// GETs `url` (`http://` only) and returns the body, at most `limit` bytes.
pub async fn get(url: &str, limit: usize) -> Result<Vec<u8>, String> {
	let uri: hyper::Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
	if uri.scheme_str() != Some("http") {
		return Err(format!(
			"{url}: only http:// URLs can be fetched (put a TLS-terminating proxy in front)"
		));
	}
	let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
	let fetch = async {
		let response = client.get(uri).await.map_err(|e| format!("{url}: {e}"))?;
		let status = response.status();
		if !status.is_success() {
			return Err(format!("{url} answered {status}"));
		}
		let body = Limited::new(response.into_body(), limit)
			.collect()
			.await
			.map_err(|e| format!("{url}: {e}"))?;
		Ok(body.to_bytes().to_vec())
	};
	tokio::time::timeout(FETCH_TIMEOUT, fetch)
		.await
		.map_err(|_| format!("{url}: timed out"))?
}
