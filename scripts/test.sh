#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs them.
#   bash scripts/test.sh            everything (what CI runs)
#   SKIP_INSTALL=1 bash scripts/test.sh   skip the system package step
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# System packages. The interop and FIB tests of later crates need bird2, frr,
# gobgpd and iproute2; the MRT tests compare against Debian's bgpdump when it is
# there. Installing needs root; without it we say so and go on.
PKGS=(iproute2 bgpdump)
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    missing=()
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            step "installing ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        else
            echo "not root: cannot install ${missing[*]}; tests that need them will say they were skipped"
        fi
    fi
fi

if [ ! -d ../shared/corpus ] && [ -z "${BGP_CORPUS:-}" ]; then
    echo "warning: ../shared/corpus not found; corpus tests will fail (set BGP_CORPUS)"
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --locked --quiet

step "cargo test"
cargo test --workspace --locked --release

if [ -x scripts/fuzz-smoke.sh ]; then
    step "fuzz smoke test"
    bash scripts/fuzz-smoke.sh
fi
