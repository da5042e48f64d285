//! Plain-HTTP GETs: artifacts from peers and data nodes ([`get`], the operator's URLs), and
//! external inputs from URLs a caller names ([`get_external`], which reaches only public
//! addresses).

use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::{client::legacy::Client, rt::TokioExecutor};
use std::{
	net::{IpAddr, Ipv4Addr, SocketAddr},
	time::Duration,
};

/// How long one fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(60);

/// GETs `url` (`http://` only) and returns the body, at most `limit` bytes.
pub async fn get(url: &str, limit: usize) -> Result<Vec<u8>, String> {
	get_with(url, limit, &[]).await
}

/// [`get`] with the request headers `headers` (a read permission shown to a peer).
pub async fn get_with(
	url: &str,
	limit: usize,
	headers: &[(&str, String)],
) -> Result<Vec<u8>, String> {
	let uri: hyper::Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
	if uri.scheme_str() != Some("http") {
		return Err(format!(
			"{url}: only http:// URLs can be fetched (put a TLS-terminating proxy in front)"
		));
	}
	let mut request = hyper::Request::get(uri);
	for (name, value) in headers {
		request = request.header(*name, value);
	}
	let request = request.body(Empty::<Bytes>::new()).map_err(|e| format!("{url}: {e}"))?;
	let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
	let fetch = async {
		let response = client.request(request).await.map_err(|e| format!("{url}: {e}"))?;
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

/// Why [`get_external`] did not return a body.
#[derive(Debug, PartialEq, Eq)]
pub enum ExternalError {
	/// The URL names (or resolves to) an address callers may not reach through this node:
	/// loopback, private, link-local (cloud metadata), shared, multicast or unspecified.
	Refused(String),
	/// The URL is not an `http://` URL.
	Invalid(String),
	/// The fetch failed: no answer, a non-success status (redirects are not followed),
	/// too large or too slow.
	Failed(String),
}

/// Whether `ip` is an address anyone on the internet could reach, not one that only this
/// machine or its network can: not loopback, private (RFC 1918, IPv6 unique local),
/// link-local (including the 169.254.169.254 and fd00:ec2::254 metadata services),
/// shared (100.64/10), benchmarking (198.18/15), documentation, multicast, broadcast or
/// unspecified; IPv4-mapped and -compatible IPv6 addresses are judged as their IPv4.
pub fn is_public(ip: IpAddr) -> bool {
	match ip {
		IpAddr::V4(v4) => is_public_v4(v4),
		IpAddr::V6(v6) => {
			if let Some(v4) = v6.to_ipv4_mapped() {
				return is_public_v4(v4);
			}
			let segments = v6.segments();
			// ::a.b.c.d (deprecated IPv4-compatible) and 64:ff9b::/96 (NAT64) carry IPv4.
			if segments[..6] == [0; 6] || segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
				let [a, b] = segments[6].to_be_bytes();
				let [c, d] = segments[7].to_be_bytes();
				return is_public_v4(Ipv4Addr::new(a, b, c, d));
			}
			!(v6.is_loopback()
				|| v6.is_unspecified()
				|| v6.is_multicast()
				// fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation.
				|| (segments[0] & 0xfe00) == 0xfc00
				|| (segments[0] & 0xffc0) == 0xfe80
				|| (segments[0] == 0x2001 && segments[1] == 0x0db8))
		},
	}
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
	let [a, b, _, _] = ip.octets();
	!(ip.is_loopback()
		|| ip.is_private()
		|| ip.is_link_local()
		|| ip.is_unspecified()
		|| ip.is_broadcast()
		|| ip.is_multicast()
		|| ip.is_documentation()
		|| a == 0
		|| (a == 100 && (64..128).contains(&b))
		|| (a == 198 && (18..20).contains(&b))
		|| a >= 240)
}

/// GETs a caller's `url` (`http://` only), at most `limit` bytes within
/// [`FETCH_TIMEOUT`], following no redirect. The host is resolved once and every address
/// it resolves to must be public ([`is_public`]) unless `allow_private` (an operator's
/// choice for a closed network); the connection goes to the checked address, so a DNS
/// answer that changes between check and connect cannot redirect it.
pub async fn get_external(
	url: &str,
	limit: usize,
	allow_private: bool,
) -> Result<Vec<u8>, ExternalError> {
	let uri: hyper::Uri = url
		.parse()
		.map_err(|_| ExternalError::Invalid(format!("{url:?} is not a URL")))?;
	if uri.scheme_str() != Some("http") {
		return Err(ExternalError::Invalid(format!(
			"{url}: only http:// URLs can be fetched (put a TLS-terminating proxy in front)"
		)));
	}
	let (Some(host), Some(authority)) = (uri.host(), uri.authority()) else {
		return Err(ExternalError::Invalid(format!("{url}: no host")));
	};
	let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
	let port = uri.port_u16().unwrap_or(80);
	let addresses: Vec<SocketAddr> =
		tokio::time::timeout(FETCH_TIMEOUT, tokio::net::lookup_host((host.as_str(), port)))
			.await
			.map_err(|_| ExternalError::Failed(format!("{url}: resolving {host} timed out")))?
			.map_err(|e| ExternalError::Failed(format!("{url}: cannot resolve {host}: {e}")))?
			.collect();
	let address = *addresses
		.first()
		.ok_or_else(|| ExternalError::Failed(format!("{url}: {host} has no address")))?;
	if !allow_private {
		if let Some(private) = addresses.iter().find(|address| !is_public(address.ip())) {
			return Err(ExternalError::Refused(format!(
				"{url}: {host} is {}, not a public address",
				private.ip()
			)));
		}
	}
	let path = uri.path_and_query().map_or("/", |path| path.as_str());
	let pinned: hyper::Uri = format!("http://{address}{path}")
		.parse()
		.map_err(|_| ExternalError::Invalid(format!("{url}: cannot address {address}")))?;
	let request = hyper::Request::get(pinned)
		.header(hyper::header::HOST, authority.as_str())
		.body(Empty::<Bytes>::new())
		.map_err(|e| ExternalError::Invalid(format!("{url}: {e}")))?;
	let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
	let fetch = async {
		let response = client
			.request(request)
			.await
			.map_err(|e| ExternalError::Failed(format!("{url}: {e}")))?;
		let status = response.status();
		if !status.is_success() {
			return Err(ExternalError::Failed(format!("{url} answered {status}")));
		}
		let body = Limited::new(response.into_body(), limit)
			.collect()
			.await
			.map_err(|e| ExternalError::Failed(format!("{url}: {e}")))?;
		Ok(body.to_bytes().to_vec())
	};
	tokio::time::timeout(FETCH_TIMEOUT, fetch)
		.await
		.map_err(|_| ExternalError::Failed(format!("{url}: timed out")))?
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn only_public_addresses_are_public() {
		for private in [
			"127.0.0.1",
			"127.8.9.10",
			"10.1.2.3",
			"172.16.0.1",
			"172.31.255.254",
			"192.168.1.1",
			"169.254.169.254",
			"100.64.0.1",
			"0.0.0.0",
			"0.1.2.3",
			"255.255.255.255",
			"224.0.0.1",
			"198.18.0.1",
			"192.0.2.1",
			"240.0.0.1",
			"::1",
			"::",
			"fd00:ec2::254",
			"fc00::1",
			"fe80::1",
			"ff02::1",
			"2001:db8::1",
			"::ffff:127.0.0.1",
			"::ffff:169.254.169.254",
			"::10.0.0.1",
			"64:ff9b::a9fe:a9fe",
		] {
			assert!(!is_public(private.parse().unwrap()), "{private} is not public");
		}
		for public in
			["1.1.1.1", "93.184.216.34", "172.32.0.1", "2606:4700::1111", "::ffff:8.8.8.8"]
		{
			assert!(is_public(public.parse().unwrap()), "{public} is public");
		}
	}

	#[test]
	fn urls_naming_private_hosts_are_refused_before_any_connection() {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		runtime.block_on(async {
			for url in [
				"http://127.0.0.1:9/",
				"http://localhost:9/x",
				"http://[::1]:9/",
				"http://169.254.169.254/latest/meta-data/",
				"http://10.0.0.1/",
				"http://[::ffff:127.0.0.1]/",
			] {
				assert!(
					matches!(get_external(url, 10, false).await, Err(ExternalError::Refused(_))),
					"{url}"
				);
			}
			for url in ["https://example.org/", "ftp://example.org/", "not a url"] {
				assert!(
					matches!(get_external(url, 10, false).await, Err(ExternalError::Invalid(_))),
					"{url}"
				);
			}
			// With private addresses allowed, the closed port is tried and fails.
			assert!(matches!(
				get_external("http://127.0.0.1:9/", 10, true).await,
				Err(ExternalError::Failed(_))
			));
		});
	}
}
