//! `./run.sh room`: the instructor's trace explorer, open to the room.
//!
//! In this order:
//! 1. the room code: `ROOM_CODE` from `.env`, or a new one, written there so that a restarted
//!    room keeps the code the learners have typed;
//! 2. the line learners type to join, with this machine's address on the network;
//! 3. the explorer, listening on every interface (`EXPLORER_HOST=0.0.0.0`) with a room's window,
//!    requiring the code on every OTLP request, until Ctrl-C.
//!
//! Each of its settings can still be given in `.env` or the environment; the room's defaults
//! only fill what is not set.

use std::hash::{BuildHasher, Hasher};
use std::net::{IpAddr, UdpSocket};
use std::process::ExitCode;

use crate::envfile;
use crate::project::Project;

/// Letters that cannot be mistaken for one another when read off a projector: no 0/O, 1/I/L.
const CODE_LETTERS: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 6;

/// The room's defaults: a window for a room of learners rather than one. A million spans is a
/// share of about 16 000 each for 60 learners (three presses of Go up to index 15), and keeps the
/// explorer's resident memory under the 1 GiB bound: the span bound is reached first, and the
/// room benchmark measured the process at about 1.5 times its own estimate of the spans' bytes.
const ROOM_DEFAULTS: [(&str, &str); 3] = [
    ("EXPLORER_HOST", "0.0.0.0"),
    ("EXPLORER_MAX_SPANS", "1000000"),
    ("EXPLORER_MAX_MIB", "1024"),
];

/// `./run.sh room [explorer args…]`.
pub fn run(project: &Project, args: &[String]) -> anyhow::Result<ExitCode> {
    project.load_env_file()?;
    let code = match std::env::var("ROOM_CODE") {
        Ok(code) if !code.trim().is_empty() => code.trim().to_string(),
        _ => {
            let code = new_code();
            envfile::set(&project.env_file(), &[("ROOM_CODE", &code)])?;
            code
        }
    };
    // The explorer gets these on top of the kit's environment (which holds `.env` by now).
    let mut env: Vec<(&str, String)> = ROOM_DEFAULTS
        .iter()
        .filter(|(name, _)| std::env::var_os(name).is_none())
        .map(|(name, value)| (*name, value.to_string()))
        .collect();
    // The explorer requires the code it is given as EXPLORER_ROOM_CODE; ROOM_CODE, ROOM_URL and
    // LEARNER_NAME are a joined learner's, which a room's explorer never forwards with.
    env.push(("EXPLORER_ROOM_CODE", code.clone()));
    let port = std::env::var("EXPLORER_OTLP_HTTP_PORT").unwrap_or_else(|_| "4318".into());
    let address =
        lan_address().map_or_else(|| "THIS-MACHINE'S-ADDRESS".to_string(), |ip| ip.to_string());
    let address = match port.as_str() {
        "4318" => address,
        port => format!("{address}:{port}"),
    };
    println!("The room is open. Learners join it with:");
    println!();
    println!("    ./run.sh join {address} --name THEIR-NAME --code {code}");
    println!();
    let pages = std::env::var("EXPLORER_PORT").unwrap_or_else(|_| "8091".into());
    println!(
        "The board: http://127.0.0.1:{pages}/room (who is on which step, who is stuck on what)."
    );
    if lan_address().is_none() {
        println!(
            "(This machine's address on the network was not found: `ip addr` or `ipconfig` shows it.)"
        );
    }
    crate::cargo::explorer_with(project, args, &env)
}

/// A new code of [`CODE_LENGTH`] letters from [`CODE_LETTERS`], from the standard library's
/// randomly keyed hasher (a room code keeps out mistakes and strays, not attackers).
fn new_code() -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    let mut bits = hasher.finish();
    (0..CODE_LENGTH)
        .map(|_| {
            let letter = CODE_LETTERS[(bits % CODE_LETTERS.len() as u64) as usize];
            bits /= CODE_LETTERS.len() as u64;
            char::from(letter)
        })
        .collect()
}

/// This machine's address on its network: the one it would send from to reach beyond it. A
/// UDP socket's `connect` only picks the route; nothing is sent.
fn lan_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?; // TEST-NET-1: a documentation address, never used
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_six_letters_that_cannot_be_misread() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|b| CODE_LETTERS.contains(&b)), "{code}");
        assert!(!code.contains(['O', 'I', 'L']), "{code}");
        // Two rooms opened one after the other get different codes.
        assert_ne!(new_code(), new_code());
    }
}
