#!/usr/bin/env bash
# The project's test command: installs what the tests need, then runs them.
#   bash scripts/test.sh            everything (what CI runs)
#   SKIP_INSTALL=1 bash scripts/test.sh   skip the system package step
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# System packages. The interop and FIB tests need bird2, frr, gobgpd and
# iproute2 (network namespaces); the MRT tests compare against Debian's
# bgpdump when it is there. Installing needs root; without it we say so and
# go on, and the tests that need them say they were skipped.
PKGS=(iproute2 bgpdump bird2 frr gobgpd)
if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    missing=()
    for p in "${PKGS[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            step "installing ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            # The daemons must not start as system services on install: the
            # tests start their own instances, in their own namespaces.
            # policy-rc.d is Debian's switch for that; we remove ours after.
            own_policy=0
            if [ ! -e /usr/sbin/policy-rc.d ]; then
                printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
                chmod +x /usr/sbin/policy-rc.d
                own_policy=1
            fi
            apt-get update -qq
            apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
            if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
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
cargo clippy --workspace --all-targets --all-features --locked -- -D warnings

step "cargo doc"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked --quiet

step "cargo test"
# --all-features: the tokio transport of bgp-fsm and its interop tests too.
cargo test --workspace --all-features --locked --release

if [ -x scripts/fuzz-smoke.sh ]; then
    step "fuzz smoke test"
    bash scripts/fuzz-smoke.sh
fi
