#!/usr/bin/env bash
# Shared setup for demo.sh and test.sh: installs what a fresh Debian 12 machine
# lacks and starts pcscd with the vpcd virtual reader. Idempotent: run it as
# often as you like. Sourced, not executed.

PACKAGES=(pkg-config libpcsclite-dev pcscd vsmartcard-vpcd libfontconfig1-dev)
VPCD_PORT_HEX=8C7B # 35963, "Virtual PCD 00 00"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    command -v cargo >/dev/null || { echo "setup: cargo not found; install the Rust toolchain (rustup) first" >&2; return 1; }
}

vpcd_listening() {
    # Reads /proc/net/tcp{,6} so no extra tool is needed; state 0A is LISTEN.
    awk -v port=":$VPCD_PORT_HEX" '$2 ~ port"$" && $4 == "0A" { found = 1 } END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

ensure_pcscd() {
    if vpcd_listening; then return 0; fi
    # pcscd is either not running or was started before vpcd was installed.
    if pgrep -x pcscd >/dev/null; then as_root pkill -x pcscd; sleep 0.5; fi
    as_root mkdir -p /run/pcscd
    if command -v systemctl >/dev/null && systemctl is-system-running >/dev/null 2>&1; then
        as_root systemctl restart pcscd.socket pcscd.service 2>/dev/null || as_root pcscd
    else
        as_root pcscd
    fi
    for _ in $(seq 50); do
        vpcd_listening && return 0
        sleep 0.1
    done
    echo "setup: pcscd started but the vpcd reader is not listening on port 35963" >&2
    return 1
}

setup() {
    ensure_packages && ensure_pcscd
}
