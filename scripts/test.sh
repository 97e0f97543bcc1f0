#!/usr/bin/env bash
# Installs what the tests need and runs them all. Idempotent, no prompts; works on a bare
# Debian machine with the Rust toolchain. This is the README's test command and what CI runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# A real nats-server for the sharing-fabric integration tests (tests start their own servers
# on loopback in temporary directories).
if [ -f scripts/install-nats.sh ]; then
    bash scripts/install-nats.sh
fi

cargo test --workspace --locked
