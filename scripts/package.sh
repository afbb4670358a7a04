#!/usr/bin/env bash
# Builds the appliance's Debian package, target/debian/asean-lane_*.deb:
# asean-lane (the lane, as the systemd service asean-lane.service), kioskctl,
# the bundled fonts and an example /etc/asean-lane/lane.toml. What goes in is
# `[package.metadata.deb]` in kiosk-app/Cargo.toml; the unit and maintainer
# scripts are in kiosk-app/debian/. Installs what it needs (the build's Debian
# packages, cargo-deb). Extra arguments go to cargo-deb (e.g. --deb-revision 2).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
# Building only: the headers the crates link against, and dpkg-shlibdeps
# (dpkg-dev) for the package's shared-library dependencies.
PACKAGES=(pkg-config libpcsclite-dev libfontconfig1-dev dpkg-dev)
ensure_packages

if ! command -v cargo-deb >/dev/null; then
    echo "package: installing cargo-deb"
    cargo install cargo-deb --locked
fi

# Two builds, because cargo-deb would build both binaries in one cargo run,
# where kioskctl's dependency on kiosk-app (default features) would pull the
# demo into asean-lane: the appliance's lane has the screen but no demo.
cargo build --release --locked -p kiosk-app --no-default-features --features display --bin asean-lane
cargo build --release --locked -p provisioning --bin kioskctl
deb=$(cargo deb --locked -p kiosk-app --no-build "$@" | tail -n 1)
echo "package: $deb"
