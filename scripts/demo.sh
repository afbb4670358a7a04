#!/usr/bin/env bash
# The demo: a virtual ePassport is laid on the virtual reader "Virtual PCD 00 00"
# and read through pcscd, exactly as a real passport on a real reader would be.
# Installs and starts what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/setup.sh
setup

MRZ=tests/virtual-emrtd/assets/specimen-td3.mrz
READER="Virtual PCD 00 00"
cargo build -q -p provisioning -p virtual-emrtd

target/debug/virtual-emrtd --mrz-file "$MRZ" --port 35963 &
chip=$!
trap 'kill $chip 2>/dev/null || true' EXIT

echo "== reading the virtual passport on \"$READER\""
target/debug/kioskctl chip read --reader "$READER" --mrz-file "$MRZ" --out out/demo
echo "== files and face image written to out/demo/"
ls -l out/demo
