//! `./run.sh join ADDRESS --name NAME --code CODE` and `./run.sh leave`: a learner in a room.
//!
//! Joining checks, in this order, what a tired learner can get wrong, and says which:
//! 1. the name: a few letters, digits, `-`, `_` or `.`, as it shows on the instructor's board;
//! 2. the address: the room's machine, as the instructor's join line gives it (`192.168.1.20`,
//!    or with a port, or as a URL), made into its OTLP/HTTP endpoint, port 4318 by default;
//! 3. that the room answers there, takes the code, and lets this machine have the name: one
//!    OTLP/HTTP log record claiming the name for this machine (its resource has `learner.name`
//!    and `learner.machine`, a hash of the machine's id; the scope is `kit.join`), carrying the
//!    code in `x-room-code`. The room's explorer answers 200; 401 for a missing or wrong code;
//!    400 when another machine has the name (each with a line saying so). The record is written
//!    as OTLP/JSON here, with the names `receiver::room` gives (the kit does not build the
//!    receiver, to keep `./run.sh`'s first build short).
//!
//! Only then are `ROOM_URL`, `ROOM_CODE` and `LEARNER_NAME` written into `.env`
//! ([`crate::envfile`]), the learner's other settings untouched. `./run.sh leave` removes them.

use std::time::Duration;

use anyhow::{Context, bail};

use crate::envfile;
use crate::project::Project;

/// The settings a joined learner's `.env` holds.
pub const SETTINGS: [&str; 3] = ["ROOM_URL", "ROOM_CODE", "LEARNER_NAME"];
/// The header the room's explorer reads the code from.
pub const CODE_HEADER: &str = "x-room-code";
/// Where the room's explorer takes OTLP/HTTP unless the address says otherwise.
const OTLP_HTTP_PORT: u16 = 4318;
/// How long the room gets to answer: a room on the same network answers in milliseconds.
const TIMEOUT: Duration = Duration::from_secs(5);

/// `./run.sh join`.
pub fn join(project: &Project, address: &str, name: &str, code: &str) -> anyhow::Result<()> {
    check_name(name)?;
    let code = code.trim();
    if code.is_empty() || code.chars().any(char::is_whitespace) {
        bail!("the room code is the few letters on the instructor's join line, without spaces");
    }
    let url = room_url(address)?;
    probe(&url, code, name, &machine_id())?;
    envfile::set(
        &project.env_file(),
        &[
            ("ROOM_URL", &url),
            ("ROOM_CODE", code),
            ("LEARNER_NAME", name),
        ],
    )?;
    println!(
        "You have joined the room at {url} as {name}: .env says so (ROOM_URL, ROOM_CODE, LEARNER_NAME)."
    );
    println!(
        "From now on ./run.sh NN sends the room a copy of your app's telemetry, and ./run.sh check \
         NN its verdict (a step already running: stop it and start it again). ./run.sh leave \
         undoes it."
    );
    Ok(())
}

/// `./run.sh leave`.
pub fn leave(project: &Project) -> anyhow::Result<()> {
    match envfile::remove(&project.env_file(), &SETTINGS)? {
        0 => println!(
            "You were in no room: .env has none of {}.",
            SETTINGS.join(", ")
        ),
        _ => println!(
            "You have left the room: {} are gone from .env.",
            SETTINGS.join(", ")
        ),
    }
    Ok(())
}

/// A name for the board: 1 to 32 letters, digits, `-`, `_` or `.`.
fn check_name(name: &str) -> anyhow::Result<()> {
    let fits = (1..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !fits {
        bail!(
            "{name:?} cannot be your name on the board: use 1 to 32 letters, digits, '-', '_' or \
             '.', e.g. --name ada-l"
        );
    }
    Ok(())
}

/// The room's OTLP/HTTP endpoint from what the learner typed: `HOST`, `HOST:PORT`, or a URL.
fn room_url(address: &str) -> anyhow::Result<String> {
    let address = address.trim().trim_end_matches('/');
    let (scheme, rest) = match address.split_once("://") {
        Some((scheme @ ("http" | "https"), rest)) => (scheme, rest),
        Some((other, _)) => bail!("{address:?}: a room is reached over http://, not {other}://"),
        None => ("http", address),
    };
    if rest.is_empty() || rest.contains('/') || rest.chars().any(char::is_whitespace) {
        bail!(
            "{address:?} is not an address: give the room's machine as the instructor's join line \
             does, e.g. 192.168.1.20"
        );
    }
    let has_port = match rest.rsplit_once(':') {
        // An IPv6 address in brackets has colons of its own.
        Some((host, port)) if !host.ends_with(':') && !port.contains(']') => {
            port.parse::<u16>().with_context(|| {
                format!("{address:?}: the port after ':' must be a number, e.g. {host}:4318")
            })?;
            true
        }
        _ => false,
    };
    Ok(if has_port {
        format!("{scheme}://{rest}")
    } else {
        format!("{scheme}://{rest}:{OTLP_HTTP_PORT}")
    })
}

/// Claims the name in the room, with the code: what the room answers says whether joining works.
fn probe(url: &str, code: &str, name: &str, machine: &str) -> anyhow::Result<()> {
    let text = |value: &str| serde_json::json!({ "stringValue": value });
    let claim = serde_json::json!({
        "resourceLogs": [{
            "resource": { "attributes": [
                { "key": "service.name", "value": text("workshop-kit") },
                { "key": "learner.name", "value": text(name) },
                { "key": "learner.machine", "value": text(machine) },
            ]},
            "scopeLogs": [{
                "scope": { "name": "kit.join" },
                "logRecords": [{ "body": text(&format!("{name} joins the room")) }],
            }],
        }],
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let answer = runtime.block_on(async {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        let response = client
            .post(format!("{url}/v1/logs"))
            .header("content-type", "application/json")
            .header(CODE_HEADER, code)
            .body(claim.to_string())
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((status, text))
    });
    match answer {
        Ok((status, _)) if status.is_success() => Ok(()),
        Ok((status, text)) if status.as_u16() == 401 => bail!(
            "the room at {url} refused the code {code:?}: {}\n  Check the code on the instructor's \
             join line (letters only; 0 and O, 1 and I are never in one).",
            text.trim()
        ),
        Ok((status, text))
            if status.as_u16() == 400 && text.contains("taken by another machine") =>
        {
            bail!("{}", text.trim())
        }
        Ok((status, _)) => bail!(
            "{url} answered HTTP {status}, which a room does not: is it the address on the \
             instructor's join line?"
        ),
        Err(err) => bail!(
            "the room at {url} does not answer ({}).\n  Is the address the one on the instructor's \
             join line, is this machine on the same network, and is ./run.sh room running there?",
            reason(&err)
        ),
    }
}

/// This machine, as a room tells machines apart: a hash of its id (`/etc/machine-id`, else its
/// host name), never the id itself. `KIT_MACHINE_ID` stands in for the id (the tests are one
/// machine playing several).
fn machine_id() -> String {
    let id = std::env::var("KIT_MACHINE_ID")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/machine-id").ok())
        .or_else(|| std::fs::read_to_string("/var/lib/dbus/machine-id").ok())
        .or_else(|| {
            std::process::Command::new("hostname")
                .output()
                .ok()
                .map(|out| String::from_utf8_lossy(&out.stdout).into_owned())
        })
        .unwrap_or_default();
    // FNV-1a: the same on every machine and every Rust, unlike the standard library's hasher.
    let hash = format!("kit-room:{}", id.trim())
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("{hash:016x}")
}

/// Why a request got no answer, in a few words.
fn reason(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "no answer within 5 s"
    } else if err.is_connect() {
        "nothing listens there"
    } else {
        "the request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_becomes_the_rooms_otlp_endpoint() {
        for (typed, url) in [
            ("192.168.1.20", "http://192.168.1.20:4318"),
            ("192.168.1.20:14318", "http://192.168.1.20:14318"),
            ("http://room.local/", "http://room.local:4318"),
            ("http://room.local:4318", "http://room.local:4318"),
            ("[fe80::1]", "http://[fe80::1]:4318"),
            ("[fe80::1]:4318", "http://[fe80::1]:4318"),
        ] {
            assert_eq!(room_url(typed).unwrap(), url, "{typed}");
        }
    }

    #[test]
    fn what_is_not_an_address_is_said_so() {
        for typed in ["", "ftp://h", "h/v1/traces", "h:port", "two words"] {
            assert!(room_url(typed).is_err(), "{typed:?}");
        }
    }

    #[test]
    fn names_fit_the_board() {
        for good in ["ada", "ada-l", "Zoë_2", "a.b"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", "ada lovelace", "a,b", "a=b", &"x".repeat(33)] {
            let err = check_name(bad).unwrap_err().to_string();
            assert!(err.contains("letters, digits"), "{err}");
        }
    }
}
