//! Headless Chromium driven over WebDriver (chromedriver), for the console's end-to-end tests.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods
)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

const HOW_TO_GET: &str = "The console tests drive headless Chromium through chromedriver. Install both \
(`apt-get install -y chromium chromium-driver` on Debian, or run `scripts/setup`), or point \
TRIBUTARY_CHROMEDRIVER and TRIBUTARY_CHROMIUM at the programs.";

/// A running chromedriver and one browser session; both end when this is dropped.
pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    shots: PathBuf,
}

fn program(variable: &str, names: &[&str]) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in
        std::env::split_paths(&path).chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/lib/chromium")])
    {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!("could not find {}. {HOW_TO_GET}", names.join(" or "))
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless Chromium session.
    pub async fn start() -> Browser {
        let chromedriver = program("TRIBUTARY_CHROMEDRIVER", &["chromedriver"]);
        let chromium = program(
            "TRIBUTARY_CHROMIUM",
            &["chromium", "chromium-browser", "google-chrome"],
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = tokio::process::Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "could not start {}: {error}. {HOW_TO_GET}",
                    chromedriver.display()
                )
            });
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen on port {port} within 20 s. {HOW_TO_GET}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,1000"
                ]
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|error| {
                panic!("chromedriver could not open a Chromium session: {error}. {HOW_TO_GET}")
            });
        let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Browser {
            client,
            driver,
            shots,
        }
    }

    /// Saves a screenshot as a test artifact (and into `TRIBUTARY_SCREENSHOTS_DIR` when set, which is
    /// how the README's pictures are refreshed).
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), &png).unwrap();
        if let Some(dir) = std::env::var_os("TRIBUTARY_SCREENSHOTS_DIR") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(Path::new(&dir).join(format!("{name}.png")), &png).unwrap();
        }
    }

    /// Waits until an element matching `css` shows `text`, and returns its text.
    pub async fn wait_for_text(&self, css: &str, text: &str) -> String {
        let started = Instant::now();
        let mut seen = Vec::new();
        while started.elapsed() < Duration::from_secs(30) {
            seen.clear();
            if let Ok(elements) = self.client.find_all(Locator::Css(css)).await {
                for element in elements {
                    if let Ok(shown) = element.text().await {
                        if shown.contains(text) {
                            return shown;
                        }
                        seen.push(shown);
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.screenshot("failure").await;
        let url = self
            .client
            .current_url()
            .await
            .map(|url| url.to_string())
            .unwrap_or_default();
        panic!(
            "no `{css}` showed {text:?} within 30 s on {url}; they showed {seen:?} (screenshot: failure.png)"
        )
    }

    /// Waits until the page's path starts with `prefix`, and returns the path.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        let started = Instant::now();
        loop {
            let url = self.client.current_url().await.unwrap();
            if url.path().starts_with(prefix) {
                return url.path().to_owned();
            }
            if started.elapsed() > Duration::from_secs(30) {
                self.screenshot("failure").await;
                panic!("the browser stayed on {url}, expected a path starting with {prefix}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces the value of the input named `name`.
    pub async fn fill(&self, name: &str, value: &str) {
        let input = self
            .client
            .find(Locator::Css(&format!("[name=\"{name}\"]")))
            .await
            .unwrap_or_else(|error| panic!("no input named {name}: {error}"));
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    /// Picks the option with `value` in the select named `name`.
    pub async fn select(&self, name: &str, value: &str) {
        self.client
            .find(Locator::Css(&format!("select[name=\"{name}\"]")))
            .await
            .unwrap_or_else(|error| panic!("no select named {name}: {error}"))
            .select_by_value(value)
            .await
            .unwrap();
    }

    /// Clicks the element matching `css`.
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("nothing matches {css}: {error}"))
            .click()
            .await
            .unwrap();
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.client.source().await.unwrap()
    }

    /// Signs in with an admin token from the sign-in page.
    pub async fn sign_in(&self, base: &str, token: &str) {
        self.client.goto(&format!("{base}/")).await.unwrap();
        self.wait_for_path("/sign-in").await;
        self.fill("token", token).await;
        self.click("form[action=\"/sign-in\"] button[type=submit]").await;
        self.wait_for_path("/connectors").await;
    }
}

impl Browser {
    /// Ends the session (closing Chromium) and stops chromedriver.
    pub async fn finish(mut self) {
        let client = self.client.clone();
        let _ = client.close().await;
        let _ = self.driver.kill().await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.start_kill();
    }
}
