#!/usr/bin/env bash
# Installs what Tangelo needs from Debian packages (and, once the front end
# needs them, npm packages from package.json). Idempotent: a package that is
# already installed is not touched, and nothing is fetched from anywhere but
# the Debian archive and the npm registry.
set -euo pipefail
cd "$(dirname "$0")/.."

# Build and test toolchain, then libraries, then the real servers and tools
# that the integration tests start on loopback.
packages=(
  build-essential cmake ninja-build pkg-config clang
  libgtest-dev libgmock-dev libbenchmark-dev
  libxxhash-dev libcli11-dev libsimdjson-dev libssl-dev
  # Real servers and tools the tests start: Prometheus and promtool (rules,
  # scrape test), wrk (cross-checks the load generator).
  prometheus wrk
  # Headless browser for the console test (driven by playwright-core from npm).
  chromium
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} > 0)); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [[ -f package.json ]]; then
  if [[ ! -d node_modules ]] || [[ package.json -nt node_modules ]] || \
     [[ -f package-lock.json && package-lock.json -nt node_modules ]]; then
    if ! command -v npm >/dev/null 2>&1; then
      "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends nodejs npm
    fi
    if [[ -f package-lock.json ]]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
    touch node_modules
  fi
fi
