//! The page in headless Chromium, driven over WebDriver.
//!
//! [`Browser`] is the reusable part: it finds the tools, starts ChromeDriver and opens a session,
//! or says why it cannot. [`Browser::start`]:
//!
//! 1. finds `chromium` and `chromedriver` on `PATH` ([`Tools::find`]); when one is missing, it
//!    skips with the reason printed (it returns `None`), or fails in CI (`CI=true`);
//! 2. starts ChromeDriver on a free loopback port ([`ChromeDriver::start`]); it runs in its own
//!    process group, killed with the Chromium it started when the [`Browser`] is dropped, even on
//!    a panic;
//! 3. opens a session through it with fantoccini ([`open_session`]): headless Chromium with a
//!    fresh profile and no background traffic, since the machine may have no internet.
//!
//! Then a test reads its pages with one script at a time ([`Browser::read`],
//! [`Browser::wait_for`]), so that what it checks always agrees with itself and every failure
//! message can show what the page showed; it keeps screenshots in `<target>/test-artifacts/`
//! ([`Browser::save_screenshot`]), and closes the session ([`Browser::close`]).
//!
//! The flow of [`go_shows_the_sequence_and_stop_stops_it`], the demo app's page: press Go, wait
//! for `0 1 1 2 3 5 8 13`, press Stop, check that the request in flight shows as stopped and that
//! nothing more arrives ([`check_go_then_stop`]); save a screenshot of the page after Stop. Its
//! page is read by [`Page::read`].

use std::fmt;
use std::future::Future;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::process::{Child, Command};

/// The WebDriver client [`Browser::client`] gives, for callers that need more of it (`Locator`,
/// `elements::Element`) without a dependency of their own.
pub use fantoccini;

/// The start of the sequence the page must show after Go.
const FIRST_NUMBERS: [&str; 8] = ["0", "1", "1", "2", "3", "5", "8", "13"];
/// How long ChromeDriver may take to listen, and the page to show the first numbers.
const DRIVER_START: Duration = Duration::from_secs(20);
const FIRST_NUMBERS_WITHIN: Duration = Duration::from_secs(30);
/// How long Stop may take to show, and how long the page is then watched for stray numbers.
const STOP_WITHIN: Duration = Duration::from_secs(10);
const QUIET_AFTER_STOP: Duration = Duration::from_secs(1);
/// How often a page is read while waiting for it.
pub const POLL: Duration = Duration::from_millis(50);
const HOW_TO_INSTALL: &str = "install with `apt-get install chromium chromium-driver`";

/// Opens the page at `url`, presses Go, checks `0 1 1 2 3 5 …` appear, presses Stop, and checks
/// that nothing more appears. Skips, with the reason printed, when Chromium or ChromeDriver is
/// missing, except in CI (`CI=true`), where it fails.
pub async fn go_shows_the_sequence_and_stop_stops_it(url: &str) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.goto(url).await;
    check_go_then_stop(browser.client()).await;
    browser.save_screenshot("page-after-stop.png").await;
    browser.close().await;
}

/// Opens the page at `url`, presses Go, and checks that the whole sequence up to F(`cap`)
/// appears and the page says the cap was reached: an app that remembers its numbers (step 06 on)
/// answers too fast for Stop to come before the end. Skips as
/// [`go_shows_the_sequence_and_stop_stops_it`] does.
pub async fn go_shows_the_whole_sequence_up_to_the_cap(url: &str, cap: u32) {
    let Some(browser) = Browser::start().await else {
        return;
    };
    browser.goto(url).await;
    let client = browser.client();
    click(client, "#go").await;
    let expected: Vec<String> = (0..=cap)
        .map(|index| sequence::fib_iterative(index).to_string())
        .collect();
    let page = wait_until(
        FIRST_NUMBERS_WITHIN,
        &format!(
            "the {} numbers up to index {cap}, and Go enabled again",
            cap + 1
        ),
        || Page::read(client),
        |page| page.values("done").len() == expected.len() && page.go_enabled,
    )
    .await;
    assert_eq!(
        page.values("done"),
        expected.iter().map(String::as_str).collect::<Vec<_>>(),
        "the page shows {page}"
    );
    assert!(
        page.status.contains("reached the cap") && !page.stop_enabled,
        "expected the page to say the cap was reached; it shows {page}"
    );
    browser.save_screenshot("page-whole-sequence.png").await;
    browser.close().await;
}

/// Headless Chromium with a WebDriver session open, through a ChromeDriver of its own.
///
/// Dropping it (after a failed assertion, say) kills ChromeDriver and every Chromium process it
/// started, then removes the profile; [`Browser::close`] ends the session properly first.
pub struct Browser {
    // Dropped in this order: the session, then the processes, then the profile they used.
    client: Client,
    _driver: ChromeDriver,
    _profile: TempDir,
}

impl Browser {
    /// Starts ChromeDriver and opens a session in headless Chromium. `None` when Chromium or
    /// ChromeDriver is missing, with the reason printed: the caller skips. In CI (`CI=true`) a
    /// missing tool is a failure instead.
    pub async fn start() -> Option<Browser> {
        let tools = match Tools::find() {
            Ok(tools) => tools,
            Err(missing) if crate::in_ci() => panic!("{missing}; {HOW_TO_INSTALL}"),
            Err(missing) => {
                eprintln!("skipped: {missing}; {HOW_TO_INSTALL}");
                return None;
            }
        };
        let profile = tempfile::tempdir().expect("a temporary folder for the Chromium profile");
        let driver = ChromeDriver::start(&tools.chromedriver).await;
        let client = open_session(&driver, &tools.chromium, profile.path()).await;
        Some(Browser {
            client,
            _driver: driver,
            _profile: profile,
        })
    }

    /// The WebDriver session, for whatever the methods here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|err| panic!("opening {url}: {err}"));
    }

    /// Clicks the first element matching the CSS `selector`.
    pub async fn click(&self, selector: &str) {
        click(&self.client, selector).await;
    }

    /// Runs `script` (a function body that `return`s JSON) in the page and gives its result.
    pub async fn read(&self, script: &str) -> Value {
        read(&self.client, script).await
    }

    /// Runs `script` until `ready` holds for its result, at most `within`; `expected` says what
    /// is awaited, for the failure message, which shows the last result.
    pub async fn wait_for(
        &self,
        within: Duration,
        expected: &str,
        script: &str,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        wait_until(within, expected, || self.read(script), ready).await
    }

    /// Saves a PNG of the window as `name` in [`artifacts_folder`], prints where, and gives the
    /// path.
    pub async fn save_screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .client
            .screenshot()
            .await
            .expect("a screenshot of the page");
        let path = artifacts_folder().join(name);
        std::fs::write(&path, png)
            .unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// Ends the session, then stops ChromeDriver and Chromium and removes the profile.
    pub async fn close(self) {
        let Browser {
            client,
            _driver: driver,
            _profile: profile,
        } = self;
        client.close().await.expect("closing the WebDriver session");
        // In this order: the profile is removed once nothing uses it.
        drop(driver);
        drop(profile);
    }
}

/// `<target>/test-artifacts/`, created if need be: where tests keep what people may want to look
/// at afterwards (screenshots). `<target>` is the parent of `CARGO_TARGET_TMPDIR` when that is
/// set, else the nearest folder above the test binary with Cargo's `CACHEDIR.TAG` (Cargo sets
/// `CARGO_TARGET_TMPDIR` only while compiling integration tests, not when running them, and
/// this crate is a library); the system's temporary folder as a last resort.
pub fn artifacts_folder() -> PathBuf {
    let folder = target_folder()
        .unwrap_or_else(std::env::temp_dir)
        .join("test-artifacts");
    std::fs::create_dir_all(&folder)
        .unwrap_or_else(|err| panic!("creating {}: {err}", folder.display()));
    folder
}

fn target_folder() -> Option<PathBuf> {
    if let Some(tmp) = std::env::var_os("CARGO_TARGET_TMPDIR") {
        return Path::new(&tmp).parent().map(Path::to_path_buf);
    }
    let binary = std::env::current_exe().ok()?;
    binary
        .ancestors()
        .skip(1)
        .find(|folder| folder.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

/// Go, then Stop, as a visitor would press them, checking the page after each.
async fn check_go_then_stop(client: &Client) {
    click(client, "#go").await;
    let page = wait_until(
        FIRST_NUMBERS_WITHIN,
        &format!("at least {} numbers after Go", FIRST_NUMBERS.len()),
        || Page::read(client),
        |page| page.values("done").len() >= FIRST_NUMBERS.len(),
    )
    .await;
    let done = page.values("done");
    assert_eq!(
        done[..FIRST_NUMBERS.len()],
        FIRST_NUMBERS,
        "expected the sequence to start with {}; the page shows {page}",
        FIRST_NUMBERS.join(" ")
    );

    click(client, "#stop").await;
    let stopped = wait_until(
        STOP_WITHIN,
        "a stopped item, Stop disabled and Go enabled after Stop",
        || Page::read(client),
        |page| page.count("stopped") == 1 && !page.stop_enabled && page.go_enabled,
    )
    .await;

    // Nothing to wait for here: the check is that nothing happens.
    tokio::time::sleep(QUIET_AFTER_STOP).await;
    let later = Page::read(client).await;
    assert!(
        later.count("done") == stopped.count("done") && later.count("waiting") == 0,
        "expected nothing more after Stop; the page showed {stopped}, then {QUIET_AFTER_STOP:?} \
         later {later}"
    );
    assert_eq!(
        later.status, "stopped",
        "expected the status to say \"stopped\"; the page shows {later}"
    );
}

/// The programs the test needs, found on `PATH`.
struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
}

impl Tools {
    /// Finds Chromium (under any of its usual names) and ChromeDriver, or says which is missing.
    fn find() -> Result<Tools, String> {
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find_map(on_path);
        let chromedriver = on_path("chromedriver");
        match (chromium, chromedriver) {
            (Some(chromium), Some(chromedriver)) => Ok(Tools {
                chromium,
                chromedriver,
            }),
            (None, Some(_)) => Err("Chromium (chromium, chromium-browser or google-chrome) \
                                    is not on PATH"
                .into()),
            (Some(_), None) => Err("ChromeDriver (chromedriver) is not on PATH".into()),
            (None, None) => Err(
                "neither Chromium (chromium, chromium-browser or google-chrome) \
                                 nor ChromeDriver (chromedriver) is on PATH"
                    .into(),
            ),
        }
    }
}

/// The executable file called `name` in the first `PATH` folder that has one.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|folder| folder.join(name))
        .find(|file| {
            file.metadata()
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
}

/// A running ChromeDriver. Dropping it kills its process group: ChromeDriver and every Chromium
/// process it started, even when a failed assertion left the session open.
struct ChromeDriver {
    /// Kept so that tokio reaps the process; the kill itself is in `Drop`.
    _child: Child,
    process_group: u32,
    url: String,
}

impl ChromeDriver {
    /// Starts `chromedriver` on a free loopback port and waits until it accepts connections.
    async fn start(chromedriver: &Path) -> ChromeDriver {
        let port = free_loopback_port();
        let mut child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|err| panic!("could not start {}: {err}", chromedriver.display()));
        let process_group = child.id().expect("a process id");

        let deadline = Instant::now() + DRIVER_START;
        while TcpStream::connect((Ipv4Addr::LOCALHOST, port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("{} exited at start: {status}", chromedriver.display());
            }
            assert!(
                Instant::now() < deadline,
                "expected {} to listen on port {port} within {DRIVER_START:?}",
                chromedriver.display()
            );
            tokio::time::sleep(POLL).await;
        }
        ChromeDriver {
            _child: child,
            process_group,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        signals::send_to_group(self.process_group, signals::Signal::Kill);
    }
}

/// A loopback port that was free a moment ago: bound, read, and released.
fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("a free loopback port");
    listener.local_addr().expect("the bound address").port()
}

/// A WebDriver session in headless Chromium, with its profile in `profile`.
async fn open_session(driver: &ChromeDriver, chromium: &Path, profile: &Path) -> Client {
    let options = json!({
        "binary": chromium,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1024,768",
            // No traffic of its own: the machine may be offline, and the test is about the page.
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    let capabilities = serde_json::Map::from_iter([("goog:chromeOptions".into(), options)]);
    // ChromeDriver is on loopback: plain HTTP, no TLS.
    ClientBuilder::new(HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .unwrap_or_else(|err| {
            panic!(
                "could not open a session of {} through ChromeDriver at {}: {err}",
                chromium.display(),
                driver.url
            )
        })
}

/// Clicks the first element matching the CSS `selector`.
pub async fn click(client: &Client, selector: &str) {
    let element = client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|err| panic!("expected the page to have {selector}: {err}"));
    element
        .click()
        .await
        .unwrap_or_else(|err| panic!("clicking {selector}: {err}"));
}

/// Runs `script` (a function body that `return`s JSON) in the page and gives its result.
pub async fn read(client: &Client, script: &str) -> Value {
    client
        .execute(script, Vec::new())
        .await
        .unwrap_or_else(|err| panic!("reading the page: {err}"))
}

/// Reads with `read` every [`POLL`] until `ready` holds, at most `within`, and gives the reading
/// that was ready; `expected` says what is awaited, for the failure message, which shows the
/// last reading.
pub async fn wait_until<T: fmt::Display, F: Future<Output = T>>(
    within: Duration,
    expected: &str,
    mut read: impl FnMut() -> F,
    ready: impl Fn(&T) -> bool,
) -> T {
    let deadline = Instant::now() + within;
    loop {
        let reading = read().await;
        if ready(&reading) {
            return reading;
        }
        assert!(
            Instant::now() < deadline,
            "expected {expected} within {within:?}; the page shows {reading}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// What the page shows at one moment.
#[derive(Debug)]
struct Page {
    /// Each item of `#sequence`: its state (`waiting`, `done`, `stopped`, `error`) and the text
    /// in its box.
    items: Vec<(String, String)>,
    go_enabled: bool,
    stop_enabled: bool,
    /// The text of `#status`.
    status: String,
}

/// Reads the list, the buttons and the status in one go, so that they agree.
const READ_PAGE: &str = r##"
    const items = [...document.querySelectorAll("#sequence li")].map((item) => [
        item.className,
        item.querySelector(".value")?.textContent ?? "",
    ]);
    return {
        items,
        goEnabled: !document.getElementById("go").disabled,
        stopEnabled: !document.getElementById("stop").disabled,
        status: document.getElementById("status").textContent,
    };
"##;

impl Page {
    async fn read(client: &Client) -> Page {
        let json = read(client, READ_PAGE).await;
        Page::from_json(&json).unwrap_or_else(|| panic!("unexpected page reading: {json}"))
    }

    fn from_json(json: &Value) -> Option<Page> {
        let text = |value: &Value| value.as_str().map(str::to_owned);
        let items = json["items"]
            .as_array()?
            .iter()
            .map(|item| Some((text(&item[0])?, text(&item[1])?)))
            .collect::<Option<_>>()?;
        Some(Page {
            items,
            go_enabled: json["goEnabled"].as_bool()?,
            stop_enabled: json["stopEnabled"].as_bool()?,
            status: text(&json["status"])?,
        })
    }

    /// The texts of the items in `state`, in order.
    fn values(&self, state: &str) -> Vec<&str> {
        self.items
            .iter()
            .filter(|(item_state, _)| item_state == state)
            .map(|(_, value)| value.as_str())
            .collect()
    }

    fn count(&self, state: &str) -> usize {
        self.values(state).len()
    }
}

/// For failure messages, e.g. `[0 1 1 2 3 (stopped: ■ stopped)], status "stopped", Go enabled,
/// Stop disabled`.
impl fmt::Display for Page {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let items: Vec<String> = self
            .items
            .iter()
            .map(|(state, value)| match state.as_str() {
                "done" => value.clone(),
                _ => format!("({state}: {value})"),
            })
            .collect();
        let enabled = |on: bool| if on { "enabled" } else { "disabled" };
        write!(
            f,
            "[{}], status {:?}, Go {}, Stop {}",
            items.join(" "),
            self.status,
            enabled(self.go_enabled),
            enabled(self.stop_enabled)
        )
    }
}
