#!/usr/bin/env bash
# The demo: the whole lane with no hardware (`asean-lane demo`). Travellers
# one after another: each one's virtual passport chip is laid on the vpcd
# reader "Virtual PCD 00 00" and read through pcscd, exactly as a real
# passport on a real reader would be; the MRZ scanner is simulated on a
# pseudo-terminal and the gate firmware runs on this host. Extra arguments
# go to `asean-lane demo` (--travellers FILE, --store PATH).
# Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
setup

cargo build -q -p kiosk-app --bin asean-lane
# The traveller's screen (--display) uses only the bundled fonts.
export FONTCONFIG_FILE="${FONTCONFIG_FILE:-$PWD/ui/fonts/fonts.conf}"
exec target/debug/asean-lane demo "$@"
