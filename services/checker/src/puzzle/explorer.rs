//! Asking the running trace explorer, through its JSON API (`services/explorer/README.md`), for
//! the numbers its pages show the learner, with the filters the READMEs suggest:
//!
//! - puzzle 1: the newest traces with a root span of `/fib?index=5` (`is_root`,
//!   `url.query = index=5`), each opened (`/api/traces/ID`) and its `index=1` server spans
//!   counted, as in the waterfall;
//! - puzzle 2: `VISUALIZE P99(duration), COUNT WHERE is_root GROUP BY url.query`, over each of
//!   the query page's time ranges, now and as it was up to [`READ_AGO_SECS`] ago (and over the
//!   learner's recording, if they made one);
//! - puzzle 3's nudge: the span count of the newest trace of index 4 and of index 5.
//!
//! Which explorer: `--explorer URL`, else `EXPLORER_URL`, else `EXPLORER_HOST` and
//! `EXPLORER_PORT` as `./run.sh` starts it, each from the environment or `.env`. When it does
//! not answer, or has nothing to judge on, the error says what to do.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, anyhow, bail};
use serde_json::Value;

use super::{Index5Trace, P99Reading, Recording, query_index};
use crate::settings;

/// The query page's time ranges (its "last" box), and how long each is in seconds.
pub const RANGES: [(&str, Option<u64>); 5] = [
    ("everything in the window", None),
    ("the last 5m", Some(5 * 60)),
    ("the last 15m", Some(15 * 60)),
    ("the last 1h", Some(60 * 60)),
    ("the last 6h", Some(6 * 60 * 60)),
];

/// When the learner may have read the query page, in seconds before their answer: P99 moves as
/// requests arrive (under `./run.sh load`, by a third in a minute), and reading, thinking and
/// typing take a minute or a few.
pub const READ_AGO_SECS: [u64; 6] = [0, 30, 60, 120, 180, 300];

/// How many of the newest traces of `/fib?index=5` puzzle 1 is judged on.
pub const INDEX5_TRACES: usize = 10;

/// Each request to the explorer: it answers a query over its whole window in well under that.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What to do when the explorer has nothing to judge on.
pub const WHAT_TO_DO: &str = "With step 04 running (./run.sh 04), press Go on its page until it \
    passes index 5, or run\n  ./run.sh load in another terminal; look in the explorer, then answer \
    again.\n  Or have the checker send your step 04's calls there, to look at: ./run.sh puzzle --record";

/// The running explorer the learner reads.
#[derive(Clone, Debug)]
pub struct Explorer {
    /// Its pages' URL, e.g. `http://127.0.0.1:8091`.
    pub url: String,
    /// Where it receives OTLP/HTTP, e.g. `http://127.0.0.1:4318`, for [`super::record`].
    pub otlp_http: String,
    /// A room's explorer holds every learner's spans: the queries keep to this learner's
    /// (`learner.name = NAME`), as the learner's own filter on its pages would.
    pub learner: Option<String>,
    client: reqwest::Client,
}

impl Explorer {
    pub fn at(url: &str, otlp_http: &str) -> Explorer {
        Explorer {
            url: url.trim_end_matches('/').to_string(),
            otlp_http: otlp_http.trim_end_matches('/').to_string(),
            learner: None,
            client: reqwest::Client::builder()
                .timeout(TIMEOUT)
                .connect_timeout(Duration::from_secs(3))
                .build()
                .expect("a reqwest client with default settings"),
        }
    }

    /// The explorer `./run.sh` starts, as the kit's settings say (`root/.env` and the
    /// environment), or the one at `given` (`--explorer`), or at `EXPLORER_URL`.
    pub fn locate(root: &Path, given: Option<&str>) -> anyhow::Result<Explorer> {
        let env_file = root.join(".env");
        let setting = |name: &str| settings::value(&env_file, name);
        let url = match given
            .map(str::to_string)
            .or_else(|| setting("EXPLORER_URL"))
        {
            Some(url) => url,
            None => {
                let host = match setting("EXPLORER_HOST") {
                    Some(host) => host.parse::<IpAddr>().with_context(|| {
                        format!("EXPLORER_HOST={host} is not an address: use 127.0.0.1 or 0.0.0.0")
                    })?,
                    None => IpAddr::V4(Ipv4Addr::LOCALHOST),
                };
                let port = setting("EXPLORER_PORT").unwrap_or_else(|| "8091".into());
                format!("http://{}:{port}", url_host(host))
            }
        };
        let parsed = reqwest::Url::parse(&url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .with_context(|| {
                format!("the explorer's URL {url:?} is not one: write http://127.0.0.1:8091")
            })?;
        let host = parsed.host_str().unwrap_or("127.0.0.1");
        let otlp_port = setting("EXPLORER_OTLP_HTTP_PORT").unwrap_or_else(|| "4318".into());
        Ok(Explorer::at(&url, &format!("http://{host}:{otlp_port}")))
    }

    /// When the explorer is a room's and the learner has joined it (`LEARNER_NAME` in the
    /// settings), keeps every query to the learner's own spans.
    pub async fn narrow_to_learner(&mut self, root: &Path) -> anyhow::Result<()> {
        let Some(name) = settings::value(&root.join(".env"), "LEARNER_NAME") else {
            return Ok(());
        };
        if self.get("/api/stats", &[]).await?["room"] == true {
            self.learner = Some(name.trim().to_string());
        }
        Ok(())
    }

    /// A link to one of its pages, e.g. `link("/traces", &[("where", "is_root")])`; in a room,
    /// the lists and queries with the learner's filter added.
    pub fn link(&self, path: &str, pairs: &[(&str, &str)]) -> String {
        let mine = self
            .learner
            .as_ref()
            .filter(|_| matches!(path, "/traces" | "/query" | "/api/traces" | "/api/query"))
            .map(|name| format!("learner.name = {name}"));
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .extend_pairs(mine.iter().map(|filter| ("where", filter.as_str())))
            .finish();
        match query.is_empty() {
            true => format!("{}{path}", self.url),
            false => format!("{}{path}?{query}", self.url),
        }
    }

    async fn get(&self, path: &str, pairs: &[(&str, &str)]) -> anyhow::Result<Value> {
        let url = self.link(path, pairs);
        let response = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|err| self.not_running(&err))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| self.not_running(&err))?;
        let json: Value = serde_json::from_str(&text).map_err(|_| {
            anyhow!(
                "{} answered {url} with {status}, not as the trace explorer does: is it the \
                 explorer? (EXPLORER_PORT, EXPLORER_URL)",
                self.url
            )
        })?;
        if !status.is_success() {
            let error = json["error"].as_str().unwrap_or_default();
            bail!(
                "the explorer at {} refused {url}: {status} {error}",
                self.url
            );
        }
        Ok(json)
    }

    fn not_running(&self, err: &reqwest::Error) -> anyhow::Error {
        let why = if err.is_timeout() {
            "did not answer in time"
        } else {
            "does not answer"
        };
        anyhow!(
            "the trace explorer at {url} {why}, and the puzzles are judged on what it shows you.\n  \
             Start it: ./run.sh 04 starts your step 04 with the explorer beside it (./run.sh explorer \
             starts it alone;\n  a Collector on ports 4317/4318 keeps it from starting: docker \
             compose down).\n  \
             Then press Go on the app's page a few times, or run ./run.sh load in another terminal,\n  \
             look in the explorer ({url}), and answer again.\n  \
             Reading another machine's explorer? EXPLORER_URL=http://that-machine:8091 in .env.",
            url = self.url
        )
    }

    /// The spans the explorer keeps: proof that it is running.
    pub async fn spans(&self) -> anyhow::Result<u64> {
        let stats = self.get("/api/stats", &[]).await?;
        Ok(stats["spans"].as_u64().unwrap_or_default())
    }

    /// The newest traces whose root is a call of `/fib?index=<index>`, as the trace list shows
    /// them filtered on `is_root` and `url.query = index=<index>`: their ids and span counts.
    async fn root_traces(&self, index: u32, limit: usize) -> anyhow::Result<Vec<(String, usize)>> {
        let filter = format!("url.query = index={index}");
        let limit = limit.to_string();
        let traces = self
            .get(
                "/api/traces",
                &[("where", "is_root"), ("where", &filter), ("limit", &limit)],
            )
            .await?;
        Ok(traces
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|trace| {
                let id = trace["trace_id"].as_str()?;
                let spans = trace["span_count"].as_u64()?;
                Some((id.to_string(), spans as usize))
            })
            .collect())
    }

    /// Puzzle 1's data: the newest traces of `/fib?index=5`, each with its `index=1` server
    /// spans counted as in its waterfall. An error says what to do when there are none.
    pub async fn index5_traces(&self) -> anyhow::Result<Vec<Index5Trace>> {
        let mut found = Vec::new();
        for (trace_id, spans) in self.root_traces(5, INDEX5_TRACES).await? {
            let trace = self.get(&format!("/api/traces/{trace_id}"), &[]).await?;
            let index1_servers = trace["spans"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|span| {
                    span["kind"] == "server"
                        && span["attributes"]["url.query"]
                            .as_str()
                            .and_then(query_index)
                            == Some(1)
                })
                .count();
            found.push(Index5Trace {
                trace_id,
                spans,
                index1_servers,
            });
        }
        if found.is_empty() {
            return Err(self.nothing_to_judge(&[5]).await);
        }
        Ok(found)
    }

    /// Puzzle 2's data: what the query page showed for P99 by index over each of its time ranges,
    /// now (the first: over everything in the window, the page's default) and up to
    /// [`READ_AGO_SECS`] ago; and over the learner's recording, when it went to this explorer.
    /// Readings without both indexes are left out; an error says what to do when now has none.
    pub async fn p99_readings(
        &self,
        recording: Option<&Recording>,
    ) -> anyhow::Result<Vec<P99Reading>> {
        let now = now_unix_ms();
        let mut asked = tokio::task::JoinSet::new();
        let mut order = 0;
        for (range, length) in RANGES {
            for ago in READ_AGO_SECS {
                let at = now - ago * 1000;
                let from = length.map(|secs| at.saturating_sub(secs * 1000));
                // Now: up to the latest span, as the page asks (no `to`).
                let to = (ago > 0).then_some(at);
                let explorer = self.clone();
                asked.spawn(async move {
                    let reading = explorer.p99_between(range, ago, from, to).await;
                    (order, reading)
                });
                order += 1;
            }
        }
        if let Some(recording) = recording.filter(|r| r.explorer == self.url) {
            let explorer = self.clone();
            let (from, to) = (recording.from_unix_ms, recording.to_unix_ms);
            asked.spawn(async move {
                let reading = explorer
                    .p99_between("your recording", 0, Some(from), Some(to))
                    .await;
                (order, reading)
            });
        }
        let mut readings = Vec::new();
        while let Some(done) = asked.join_next().await {
            let (order, reading) = done.context("a query to the explorer")?;
            if let Some(reading) = reading? {
                readings.push((order, reading));
            }
        }
        readings.sort_by_key(|(order, _)| *order);
        match readings.first() {
            Some((0, _)) => Ok(readings.into_iter().map(|(_, reading)| reading).collect()),
            _ => Err(self.nothing_to_judge(&[4, 5]).await),
        }
    }

    /// P99 and count of the root spans of index 4 and 5 that started in `from..to` (Unix ms),
    /// with the query the README suggests; `None` when either index has none.
    pub async fn p99_between(
        &self,
        range: &str,
        ago_secs: u64,
        from: Option<u64>,
        to: Option<u64>,
    ) -> anyhow::Result<Option<P99Reading>> {
        let (from, to) = (from.map(|t| t.to_string()), to.map(|t| t.to_string()));
        let mut pairs = vec![
            ("visualize", "P99(duration)"),
            ("visualize", "COUNT"),
            ("where", "is_root"),
            ("group_by", "url.query"),
            ("limit", "1000"),
        ];
        if let Some(from) = &from {
            pairs.push(("from", from));
        }
        if let Some(to) = &to {
            pairs.push(("to", to));
        }
        let result = self.get("/api/query", &pairs).await?;
        let row = |index: u32| -> Option<(f64, u64)> {
            let group = format!("index={index}");
            let row = result["rows"]
                .as_array()?
                .iter()
                .find(|row| row["group"][0] == group.as_str())?;
            Some((
                row["values"][0].as_f64()?,
                row["values"][1].as_f64()? as u64,
            ))
        };
        Ok(match (row(4), row(5)) {
            (Some((p99_4, count_4)), Some((p99_5, count_5))) if p99_4 > 0.0 => Some(P99Reading {
                range: range.to_string(),
                ago_secs,
                p99_4,
                p99_5,
                count_4,
                count_5,
            }),
            _ => None,
        })
    }

    /// Puzzle 3's nudge: the spans of the newest trace of index 4 and of index 5, those there
    /// are; none when the explorer cannot be asked.
    pub async fn spans_per_trace(&self) -> BTreeMap<u32, usize> {
        let mut counts = BTreeMap::new();
        for index in [4, 5] {
            if let Ok(traces) = self.root_traces(index, 1).await
                && let Some((_, spans)) = traces.first()
            {
                counts.insert(index, *spans);
            }
        }
        counts
    }

    /// Why there is nothing to judge on, when the calls of `indexes` are missing, and what to do.
    async fn nothing_to_judge(&self, indexes: &[u32]) -> anyhow::Error {
        let spans = match self.spans().await {
            Ok(spans) => spans,
            Err(err) => return err,
        };
        let roots = self
            .get(
                "/api/query",
                &[
                    ("visualize", "COUNT"),
                    ("where", "is_root"),
                    ("group_by", "url.query"),
                    ("limit", "1000"),
                ],
            )
            .await;
        let asked: Vec<u32> = roots
            .ok()
            .and_then(|roots| {
                roots["rows"].as_array().map(|rows| {
                    rows.iter()
                        .filter_map(|row| row["group"][0].as_str().and_then(query_index))
                        .collect()
                })
            })
            .unwrap_or_default();
        let missing: Vec<String> = indexes
            .iter()
            .filter(|index| !asked.contains(index))
            .map(|index| format!("/fib?index={index}"))
            .collect();
        let what = if spans == 0 {
            "holds no spans yet".to_string()
        } else if asked.is_empty() {
            format!(
                "has {spans} spans, but no call of /fib with url.query on its root span: that \
                 attribute is step 04's (./run.sh check 04), and the puzzles need it"
            )
        } else {
            format!(
                "has no call of {} yet (a root span with url.query = index=N)",
                missing.join(" or ")
            )
        };
        anyhow!(
            "the trace explorer at {} {what}, and the puzzles are judged on what it shows you.\n  {WHAT_TO_DO}",
            self.url
        )
    }
}

/// An address as a URL's host: IPv6 in brackets; any address (`0.0.0.0`) is reached at loopback.
fn url_host(host: IpAddr) -> String {
    match host {
        host if host.is_unspecified() => "127.0.0.1".into(),
        IpAddr::V6(v6) => format!("[{v6}]"),
        IpAddr::V4(v4) => v4.to_string(),
    }
}

pub fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_written_as_a_urls_host() {
        assert_eq!(url_host("0.0.0.0".parse().unwrap()), "127.0.0.1");
        assert_eq!(url_host("::".parse().unwrap()), "127.0.0.1");
        assert_eq!(url_host("10.0.0.7".parse().unwrap()), "10.0.0.7");
        assert_eq!(url_host("::1".parse().unwrap()), "[::1]");
    }

    #[test]
    fn the_explorer_is_found_where_the_settings_say() {
        let dir = tempfile::tempdir().unwrap();
        let explorer = Explorer::locate(dir.path(), Some("http://10.0.0.7:9000/")).unwrap();
        assert_eq!(explorer.url, "http://10.0.0.7:9000");
        if std::env::var_os("EXPLORER_OTLP_HTTP_PORT").is_none() {
            assert_eq!(explorer.otlp_http, "http://10.0.0.7:4318");
        }
        assert_eq!(
            explorer.link(
                "/traces",
                &[("where", "is_root"), ("where", "url.query = index=5")]
            ),
            "http://10.0.0.7:9000/traces?where=is_root&where=url.query+%3D+index%3D5"
        );
        assert!(Explorer::locate(dir.path(), Some("localhost:8091")).is_err());
        std::fs::write(
            dir.path().join(".env"),
            "EXPLORER_URL=http://192.0.2.1:8091\n",
        )
        .unwrap();
        // The environment and `--explorer` win over `.env`.
        if std::env::var_os("EXPLORER_URL").is_none() {
            let explorer = Explorer::locate(dir.path(), None).unwrap();
            assert_eq!(explorer.url, "http://192.0.2.1:8091");
        }
        let explorer = Explorer::locate(dir.path(), Some("http://127.0.0.1:1")).unwrap();
        assert_eq!(explorer.url, "http://127.0.0.1:1");
    }
}
