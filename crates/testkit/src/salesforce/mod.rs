//! A Salesforce test server: an axum app in the test process that follows the REST API as
//! `shared/reference/salesforce-rest-api.md` describes it.
//!
//! - OAuth: `POST /services/oauth2/token` with the password, client-credentials, refresh-token, JWT-bearer
//!   (RS256, checked against the server's own key pair) and authorization-code (with PKCE S256) grants, and
//!   their errors; `GET /services/oauth2/authorize` approves at once and redirects with a code.
//! - REST under `/services/data/vNN.N/`: `limits`, describeGlobal, describe, `query` with paging through
//!   `nextRecordsUrl`, record create/get/update/delete, upsert by external id, and sObject Collections.
//!   Every answer carries `Sforce-Limit-Info`; errors are Salesforce's JSON arrays.
//! - Test controls: expiring or revoking every access token, a batch-size cap (so paging needs few
//!   records), injected faults (503, 403 `REQUEST_LIMIT_EXCEEDED`, slow answers), and counters.
//!
//! Data lives in memory in a fixed schema (Account, Contact, Opportunity, User); the SOQL it evaluates is
//! described in `soql`. Not implemented: Bulk API, composite requests other than sObject Collections,
//! queryAll, record types, field-level security, and validation beyond unknown and required fields.

mod oauth;
mod org;
mod rest;
mod soql;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};
use tokio::task::JoinHandle;

use crate::error::{Result, TestkitError};
use crate::process::random_hex;

/// A fault the server answers the next data request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `503` with `SERVER_UNAVAILABLE`.
    Unavailable,
    /// `403` with `REQUEST_LIMIT_EXCEEDED`.
    RequestLimit,
    /// The answer comes after this long.
    Delay(Duration),
    /// A `200` whose body goes on for this many bytes (whitespace, sent in chunks with no length): a
    /// server that sends more than a client should hold.
    Endless(usize),
}

/// The credentials the server accepts.
#[derive(Clone)]
pub struct Credentials {
    /// The connected app's consumer key.
    pub client_id: String,
    /// The consumer secret.
    pub client_secret: String,
    /// The user.
    pub username: String,
    /// The user's password.
    pub password: String,
    /// The user's security token.
    pub security_token: String,
    /// A refresh token the server honours.
    pub refresh_token: String,
    /// The connected app's private key (PKCS#8 PEM), for the JWT bearer grant.
    pub private_key_pem: String,
}

struct Inner {
    schema: Vec<org::ObjectDef>,
    records: org::Records,
    /// Access token → when it was issued.
    tokens: HashMap<String, Instant>,
    token_lifetime: Option<Duration>,
    refresh_tokens: Vec<String>,
    /// Authorization code → (code challenge, redirect URI).
    codes: HashMap<String, (String, String)>,
    faults: VecDeque<Fault>,
    cursors: HashMap<String, Vec<Value>>,
    batch_cap: usize,
    api_used: u64,
    tokens_issued: u64,
    /// What token responses name as `instance_url` instead of the server itself.
    instance_url: Option<String>,
}

pub(crate) struct Shared {
    url: String,
    credentials: Credentials,
    public_key_pem: String,
    inner: Mutex<Inner>,
    /// Bytes of [`Fault::Endless`] bodies the client has taken so far.
    endless_sent: std::sync::atomic::AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running test server; stops when dropped.
pub struct SalesforceServer {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl SalesforceServer {
    /// Makes token responses name `url` as the org's `instance_url` (a hostile or broken token endpoint);
    /// `None` names the server itself again.
    pub fn set_instance_url(&self, url: Option<&str>) {
        self.shared.lock().instance_url = url.map(str::to_owned);
    }

    /// Starts a server on a free port of 127.0.0.1, on the current tokio runtime.
    pub async fn start() -> Result<SalesforceServer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| TestkitError::io("could not bind the Salesforce test server", error))?;
        let address = listener.local_addr().map_err(|error| {
            TestkitError::io("could not read the Salesforce test server's address", error)
        })?;
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)
            .map_err(|error| TestkitError::new(format!("could not generate the test RSA key: {error}")))?;
        let credentials = Credentials {
            client_id: format!("3MVG9TEST{}", random_hex(8)),
            client_secret: random_hex(16),
            username: "integration@tributary.test".to_owned(),
            password: format!("pw-{}", random_hex(8)),
            security_token: random_hex(12),
            refresh_token: format!("5Aep{}", random_hex(24)),
            private_key_pem: key.serialize_pem(),
        };
        let shared = Arc::new(Shared {
            url: format!("http://{address}"),
            public_key_pem: key.public_key_pem(),
            inner: Mutex::new(Inner {
                schema: org::schema(),
                records: org::Records::default(),
                tokens: HashMap::new(),
                token_lifetime: None,
                refresh_tokens: vec![credentials.refresh_token.clone()],
                codes: HashMap::new(),
                faults: VecDeque::new(),
                cursors: HashMap::new(),
                batch_cap: 2000,
                api_used: 0,
                tokens_issued: 0,
                instance_url: None,
            }),
            endless_sent: std::sync::atomic::AtomicU64::new(0),
            credentials,
        });
        let app = axum::Router::new()
            .route("/services/oauth2/token", axum::routing::post(oauth::token))
            .route("/services/oauth2/authorize", axum::routing::get(oauth::authorize))
            .route("/services/data/", axum::routing::get(rest::versions))
            .route("/services/data/{version}/{*rest}", axum::routing::any(rest::data))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(SalesforceServer { shared, task })
    }

    /// The login host and instance URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> &str {
        &self.shared.url
    }

    /// The credentials it accepts.
    pub fn credentials(&self) -> &Credentials {
        &self.shared.credentials
    }

    /// Makes every access token issued so far invalid, as an expired session is.
    pub fn expire_tokens(&self) {
        self.shared.lock().tokens.clear();
    }

    /// Access tokens stop working this long after they are issued.
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.lock().token_lifetime = Some(lifetime);
    }

    /// Queries answer at most this many records per page (Salesforce's own minimum is 200; tests may go
    /// lower to page with few records).
    pub fn set_batch_cap(&self, cap: usize) {
        self.shared.lock().batch_cap = cap.max(1);
    }

    /// The next data request gets `fault`; several queue up in order.
    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push_back(fault);
    }

    /// How many access tokens were issued.
    pub fn tokens_issued(&self) -> u64 {
        self.shared.lock().tokens_issued
    }

    /// How many bytes of [`Fault::Endless`] bodies the client has taken (what the server has handed to the
    /// connection, which runs at most a few socket buffers ahead of the reader).
    pub fn endless_bytes_sent(&self) -> u64 {
        self.shared.endless_sent.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// How many data requests were served (the `api-usage` count).
    pub fn api_requests(&self) -> u64 {
        self.shared.lock().api_used
    }

    /// Inserts records of `object` directly, returning their ids.
    pub fn insert(&self, object: &str, records: Vec<Map<String, Value>>) -> Result<Vec<String>> {
        let mut inner = self.shared.lock();
        let Inner {
            schema,
            records: store,
            ..
        } = &mut *inner;
        let definition = schema
            .iter()
            .find(|candidate| candidate.name == object)
            .ok_or_else(|| TestkitError::new(format!("the test org has no object {object}")))?;
        let mut ids = Vec::new();
        for mut record in records {
            let id = store.new_id(definition);
            record.insert("Id".into(), Value::String(id.clone()));
            store.all_mut(definition.name).push(record);
            ids.push(id);
        }
        Ok(ids)
    }

    /// The records of `object` as stored.
    pub fn records(&self, object: &str) -> Vec<Map<String, Value>> {
        self.shared.lock().records.all(object).to_vec()
    }
}

impl Drop for SalesforceServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
