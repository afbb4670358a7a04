#!/usr/bin/env bash
# Runs the whole test suite: formatting, lints, every crate's tests (the
# pcscd + virtual chip tests included). Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
setup
# A one-shot run gains nothing from incremental caches; they double target/.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
