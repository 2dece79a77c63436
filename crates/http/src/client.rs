//! [`HttpClient`]: reqwest under the host policy.
//!
//! reqwest resolves host names through a guarded resolver, which asks the connector's
//! [`HostAccess`] and returns only addresses it checked, so the address connected to is the address checked
//! (no DNS-rebinding gap), for every new connection. A URL whose host is an address is never resolved, so
//! [`HttpClient::send`] checks each request's URL (scheme and literal host) before it goes out.

use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use tributary_core::{Error, FieldError, HostAccess, Result};

/// How an [`HttpClient`] is built.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// The config field that names where requests go (`endpoint`, `login_host`), for refusals.
    pub field: &'static str,
    /// Time to open a connection.
    pub connect_timeout: Duration,
    /// Time for a whole request, body included; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Whether `http://` URLs may be used (checked against the host policy).
    pub allow_http: bool,
}

impl HttpOptions {
    /// HTTPS only, no overall timeout.
    pub fn new(field: &'static str, connect_timeout: Duration) -> HttpOptions {
        HttpOptions {
            field,
            connect_timeout,
            timeout: None,
            allow_http: false,
        }
    }

    /// Sets the overall request timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> HttpOptions {
        self.timeout = Some(timeout);
        self
    }

    /// Allows `http://` URLs (refused by [`HttpClient::new`] when the host policy does not allow plain
    /// text).
    #[must_use]
    pub fn allow_http(mut self, allow: bool) -> HttpOptions {
        self.allow_http = allow;
        self
    }
}

/// Why a request was not answered.
#[derive(Debug)]
pub enum SendError {
    /// The host policy refused the URL or an address it resolved to; nothing was sent.
    Refused(Error),
    /// The transport failed (connection, TLS, timeout, body).
    Transport(reqwest::Error),
}

/// A reqwest client that reaches only what its [`HostAccess`] allows.
#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    host: HostAccess,
    field: &'static str,
    allow_http: bool,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("field", &self.field)
            .field("allow_http", &self.allow_http)
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl HttpClient {
    /// Builds the client. `allow_http` is refused here when the policy does not allow plain text.
    #[allow(
        clippy::disallowed_methods,
        reason = "the one place a connector's reqwest client is built"
    )]
    pub fn new(host: &HostAccess, options: HttpOptions) -> Result<HttpClient> {
        if options.allow_http {
            host.check_plaintext("allow_http", "allow_http")?;
        }
        let resolver = GuardedResolver {
            host: host.clone(),
            field: options.field,
        };
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(resolver))
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!options.allow_http)
            .connect_timeout(options.connect_timeout);
        if let Some(timeout) = options.timeout {
            builder = builder.timeout(timeout);
        }
        let client = builder
            .build()
            .map_err(|error| Error::internal(format!("could not build the HTTP client: {error}")))?;
        Ok(HttpClient {
            client,
            host: host.clone(),
            field: options.field,
            allow_http: options.allow_http,
        })
    }

    /// The reqwest client, to build requests with. Send them with [`HttpClient::send`], which checks them.
    pub fn reqwest(&self) -> &reqwest::Client {
        &self.client
    }

    /// The host access requests are checked against.
    pub fn host(&self) -> &HostAccess {
        &self.host
    }

    /// Checks a URL before anything is sent to it: a scheme this client may use, and a host the policy
    /// allows as written (an address is checked here; a name is checked by its addresses when resolved).
    pub fn check_url(&self, url: &reqwest::Url) -> Result<()> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Err(Error::invalid_config(vec![FieldError::new(
                    self.field,
                    "uses http://, which needs allow_http",
                )])
                .with_hint("use https, or turn allow_http on for a server on a trusted network"));
            }
            other => {
                return Err(Error::invalid_config(vec![FieldError::new(
                    self.field,
                    format!("uses the scheme `{other}`; only https (or http with allow_http) is used"),
                )]));
            }
        }
        let Some(host) = url.host_str() else {
            return Err(Error::invalid_config(vec![FieldError::new(
                self.field,
                "names no host",
            )]));
        };
        self.host.check_host(self.field, host)
    }

    /// Checks the request's URL ([`HttpClient::check_url`]), then sends it. A refusal found while
    /// connecting (a name that resolved to a refused address) comes back as [`SendError::Refused`] too.
    pub async fn send(&self, request: reqwest::Request) -> std::result::Result<reqwest::Response, SendError> {
        self.check_url(request.url()).map_err(SendError::Refused)?;
        self.client
            .execute(request)
            .await
            .map_err(|error| match Error::find_in(&error) {
                Some(refusal) => SendError::Refused(refusal),
                None => SendError::Transport(error),
            })
    }
}

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The body is longer than the limit; reading stopped there.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// The transport failed while reading.
    Transport(reqwest::Error),
}

/// Reads a response body of at most `limit` bytes. A longer body is refused as it arrives (by its
/// `Content-Length`, or when the bytes read pass the limit): a server cannot make the host buffer more.
pub async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> std::result::Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|length| length > limit as u64)
    {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// reqwest's resolver: the host access's, which checks every address it returns.
struct GuardedResolver {
    host: HostAccess,
    field: &'static str,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = self.host.clone();
        let field = self.field;
        Box::pin(async move {
            // reqwest fills in the port after resolution.
            let addresses = host.resolve(field, name.as_str(), 0).await?;
            let addresses: Addrs = Box::new(addresses.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use tributary_core::{ProtectedPaths, TenantPolicy};

    use super::*;

    fn tenant() -> HostAccess {
        HostAccess::tenant(&TenantPolicy::default(), ProtectedPaths::new()).unwrap()
    }

    #[tokio::test]
    async fn a_tenant_client_refuses_loopback_before_sending_anything() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let relaxed = HostAccess::tenant(
            &TenantPolicy {
                allow_plaintext: true,
                ..TenantPolicy::default()
            },
            ProtectedPaths::new(),
        )
        .unwrap();
        let http = HttpClient::new(
            &relaxed,
            HttpOptions::new("endpoint", Duration::from_secs(2)).allow_http(true),
        )
        .unwrap();
        for url in [
            format!("http://127.0.0.1:{port}/"),
            format!("http://localhost:{port}/"),
            format!("http://2130706433:{port}/"),
            format!("http://[::ffff:127.0.0.1]:{port}/"),
            format!("http://0.0.0.0:{port}/"),
        ] {
            let request = http.reqwest().get(&url).build().unwrap();
            match http.send(request).await {
                Err(SendError::Refused(error)) => {
                    assert_eq!(error.fields()[0].field, "endpoint", "{url}");
                }
                other => panic!("{url}: {other:?}"),
            }
        }
        assert!(listener.accept().is_err(), "nothing connected to the listener");
    }

    #[test]
    fn plain_http_is_an_operator_switch() {
        let error = HttpClient::new(
            &tenant(),
            HttpOptions::new("endpoint", Duration::from_secs(1)).allow_http(true),
        )
        .unwrap_err();
        assert_eq!(error.fields()[0].field, "allow_http");
        let http = HttpClient::new(&tenant(), HttpOptions::new("endpoint", Duration::from_secs(1))).unwrap();
        let error = http
            .check_url(&"http://example.com/".parse().unwrap())
            .unwrap_err();
        assert!(error.fields()[0].message.contains("allow_http"));
        assert!(http.check_url(&"file:///etc/passwd".parse().unwrap()).is_err());
    }
}
