//! The HTTP toolkit Tributary's HTTP connectors share (object storage, Salesforce, and the REST and SaaS
//! connectors to come).
//!
//! - [`client`]: [`HttpClient`], a reqwest client (rustls) built under the host's
//!   [`HostAccess`](tributary_core::HostAccess): every host name is resolved through it and every address
//!   checked before a connection opens; literal addresses and schemes are checked per request; plain HTTP
//!   only where allowed; no redirects and no system proxy (either would send a request somewhere the check
//!   did not see).
//!
//! ```no_run
//! # async fn demo() -> tributary_core::Result<()> {
//! use std::time::Duration;
//! use tributary_core::HostAccess;
//! use tributary_http::{HttpClient, HttpOptions};
//!
//! let http = HttpClient::new(&HostAccess::unrestricted(), HttpOptions::new("endpoint", Duration::from_secs(5)))?;
//! let request = http.reqwest().get("https://example.com/").build().map_err(|e| tributary_core::Error::internal(e.to_string()))?;
//! let response = http.send(request).await;
//! # Ok(()) }
//! ```

pub mod client;

pub use client::{BodyError, HttpClient, HttpOptions, SendError, read_body};
