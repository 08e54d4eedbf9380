#!/usr/bin/env bash
# The workshop kit's one entry point:
#   ./run.sh            build and start the app
#   ./run.sh test       run every test
#   ./run.sh doctor     check this machine
#   ./run.sh --help     everything else
#
# This script only finds cargo and hands over to the `kit` command (services/kit), where the
# logic lives and is tested. It works from any folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

# rustup installs cargo in ~/.cargo/bin; a terminal opened before the install does not see it yet.
if ! command -v cargo >/dev/null 2>&1 && [ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]; then
  PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "error: cargo (Rust) is not installed, or not on your PATH." >&2
  echo "  Install Rust from https://rustup.rs (one command), open a new terminal, and run ./run.sh again." >&2
  exit 127
fi

# The first run builds the kit's own command, quietly after that.
quiet=--quiet
if [ ! -x "${CARGO_TARGET_DIR:-target}/debug/kit" ]; then
  echo "Building the kit's command line (first run only, under a minute)..." >&2
  quiet=
fi
exec cargo run $quiet --package kit -- "$@"
