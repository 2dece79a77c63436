//! The `instance_url` of a token response names the host every later call goes to, bearer token
//! included. It comes from the network, so it is checked before it is used: `https` (or `http` where the
//! connector allows it, for a test server), and a host on Salesforce's own domains or the login host itself.
//! The operator can replace the domains (`[security.tenants.instance_domains] salesforce = [...]`).

use tributary_core::host::HostPattern;
use tributary_core::{Error, ErrorKind, Result};
use tributary_http::HttpClient;

use crate::config::CONNECTOR_TYPE;

/// Where Salesforce runs orgs, when the operator names no other domains.
pub const DEFAULT_DOMAINS: [&str; 3] = ["*.salesforce.com", "*.force.com", "*.my.salesforce.com"];

/// The instance URL without a trailing slash, if it may be used.
pub(crate) fn check(http: &HttpClient, login_host: &str, instance_url: &str) -> Result<String> {
    let instance_url = instance_url.trim_end_matches('/');
    let refuse = |why: String| {
        Error::new(
            ErrorKind::Authentication,
            format!("the sign-in was refused: the token endpoint sent the connector to {why}"),
        )
        .with_hint(
            "check the login host: only Salesforce's own domains (or the operator's [security.tenants.instance_domains]) are used",
        )
        .with_retryable(false)
    };
    let Ok(url) = reqwest::Url::parse(instance_url) else {
        return Err(refuse("an instance URL that is not a URL".into()));
    };
    let Some(host) = url.host_str() else {
        return Err(refuse("an instance URL without a host".into()));
    };
    let bare = url.path() == "/" || url.path().is_empty();
    if !bare || url.query().is_some() || !url.username().is_empty() {
        return Err(refuse(format!("`{host}` with a path, query or user name")));
    }
    if let Err(error) = http.check_url(&url) {
        return Err(refuse(format!(
            "`{host}`, which this connector may not use ({})",
            error.message()
        )));
    }
    let login = reqwest::Url::parse(login_host).ok();
    let is_login_host = login.as_ref().and_then(reqwest::Url::host_str) == Some(host)
        && login.as_ref().map(reqwest::Url::port_or_known_default) == Some(url.port_or_known_default());
    let allowed = match http.host().instance_domains(CONNECTOR_TYPE) {
        Some(patterns) => patterns.iter().any(|pattern| pattern.matches(host)),
        None => DEFAULT_DOMAINS
            .iter()
            .filter_map(|pattern| pattern.parse::<HostPattern>().ok())
            .any(|pattern| pattern.matches(host)),
    };
    if !(allowed || is_login_host) {
        return Err(refuse(format!("`{host}`, which is not a Salesforce domain")));
    }
    Ok(instance_url.to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use tributary_core::HostAccess;
    use tributary_http::HttpOptions;

    use super::*;

    fn client(host: &HostAccess, allow_http: bool) -> HttpClient {
        HttpClient::new(
            host,
            HttpOptions::new("login_host", Duration::from_secs(1)).allow_http(allow_http),
        )
        .unwrap()
    }

    #[test]
    fn only_salesforce_domains_or_the_login_host_are_used() {
        let http = client(&HostAccess::unrestricted(), false);
        let login = "https://login.salesforce.com";
        for good in [
            "https://acme.my.salesforce.com/",
            "https://acme--dev.sandbox.my.salesforce.com",
            "https://na1.force.com",
        ] {
            assert!(check(&http, login, good).is_ok(), "{good}");
        }
        assert_eq!(
            check(&http, login, "https://acme.my.salesforce.com/").unwrap(),
            "https://acme.my.salesforce.com"
        );
        for bad in [
            "https://evil.example.net",
            "https://salesforce.com.evil.net",
            "http://acme.my.salesforce.com",
            "https://127.0.0.1",
            "https://acme.my.salesforce.com/services?x=1",
            "https://user@acme.my.salesforce.com",
            "not a url",
        ] {
            let error = check(&http, login, bad).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Authentication, "{bad}");
            assert!(error.message().contains("sign-in was refused"), "{bad}: {error}");
        }
        let test_server = client(&HostAccess::unrestricted(), true);
        assert!(
            check(&test_server, "http://127.0.0.1:8443", "http://127.0.0.1:8443").is_ok(),
            "the login host itself"
        );
        assert!(
            check(&test_server, "http://127.0.0.1:8443", "http://127.0.0.1:8444").is_err(),
            "another port"
        );
    }

    #[test]
    fn the_operator_can_name_other_domains() {
        let mut domains = BTreeMap::new();
        domains.insert("salesforce".to_owned(), vec!["*.salesforce.mil".to_owned()]);
        let host = HostAccess::unrestricted()
            .with_instance_domains(&domains)
            .unwrap();
        let http = client(&host, false);
        assert!(
            check(
                &http,
                "https://login.salesforce.mil",
                "https://acme.my.salesforce.mil"
            )
            .is_ok()
        );
        assert!(
            check(
                &http,
                "https://login.salesforce.mil",
                "https://acme.my.salesforce.com"
            )
            .is_err(),
            "the list replaces the defaults"
        );
    }
}
