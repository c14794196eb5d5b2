#!/usr/bin/env bash
# Sets up peftc on this machine, then runs the embedded example.
#
#   1. npm dependencies and the build;
#   2. a WebGPU adapter: when dawn-node finds none on Debian 12, Mesa's software
#      Vulkan driver (lavapipe) from bookworm-backports, since Dawn refuses the
#      Mesa 22 that bookworm ships; elsewhere, a message saying what to install;
#   3. the main job: tiny example models and data, the example specs checked
#      and resolved against them, and a LoRA adapter trained on the GPU, with
#      the eval loss before and after.
#
# Safe to run again: each step is skipped when it is already done.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nsetup: error: %s\n' "$*" >&2; exit 1; }

peftc() { node dist/bin/peftc.js "$@"; }

check_node() {
  command -v node >/dev/null || fail "Node.js 20 or newer is needed: https://nodejs.org (or apt-get install nodejs npm)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [ "$major" -ge 20 ] || fail "Node.js 20 or newer is needed; this is $(node --version)"
  command -v npm >/dev/null || fail "npm is needed (apt-get install npm)"
}

install_npm_dependencies() {
  step "npm dependencies"
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
  step "build"
  npm run build --silent
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

# The mirror bookworm itself comes from, so backports use the same one.
debian_mirror() {
  local uri=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $0 ~ / bookworm / {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

install_lavapipe_debian12() {
  local mirror sources=/etc/apt/sources.list.d/backports.sources
  mirror=$(debian_mirror)
  step "installing Mesa lavapipe (software Vulkan) from bookworm-backports, mirror $mirror"
  if [ ! -f "$sources" ]; then
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$mirror" \
      | as_root tee "$sources" >/dev/null
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q -t bookworm-backports mesa-vulkan-drivers libvulkan1
}

install_lavapipe_plain() {
  step "installing Mesa lavapipe (software Vulkan)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q mesa-vulkan-drivers libvulkan1
}

ensure_webgpu_adapter() {
  step "WebGPU adapter"
  if peftc doctor --quiet 2>/dev/null; then
    peftc doctor | sed -n 1,3p
    return
  fi
  echo "no WebGPU adapter yet; looking for a Vulkan driver to install"
  local id="" version="" like=""
  if [ -f /etc/os-release ]; then
    id=$(. /etc/os-release && echo "${ID:-}")
    version=$(. /etc/os-release && echo "${VERSION_ID:-}")
    like=$(. /etc/os-release && echo "${ID_LIKE:-}")
  fi
  local installer=""
  if [ "$id" = debian ] && [ "$version" = 12 ]; then installer=install_lavapipe_debian12
  elif [ "$id" = debian ] || [ "$id" = ubuntu ] || [[ "$like" == *debian* ]]; then installer=install_lavapipe_plain
  fi
  if [ -z "$installer" ]; then
    peftc doctor || true
    fail "install a Vulkan driver for your GPU, or Mesa 23+ lavapipe (mesa-vulkan-drivers), then run ./setup.sh again"
  fi
  if ! as_root true; then
    peftc doctor || true
    fail "installing the Vulkan driver needs root: run ./setup.sh as root or with passwordless sudo, or install it yourself as 'peftc doctor' says above"
  fi
  "$installer" || fail "the Vulkan driver could not be installed (see apt's messages above)"
  peftc doctor || fail "a Vulkan driver is installed, but dawn-node still finds no adapter (see above)"
}

run_example() {
  step "example: tiny Hugging Face models and data in models/ (made by tests/fixtures)"
  node dist/tests/fixtures/make-models.js models
  step "example: check the specs in specs/examples"
  peftc check specs/examples/*.peft
  step "example: the plan of specs/examples/lora.peft against models/tiny-llama"
  peftc inspect specs/examples/lora.peft
  step "example: eval loss of the base model on the held-out task data"
  peftc eval --model models/tiny-llama --data models/data/completion-eval.jsonl
  step "example: train the LoRA adapter of specs/examples/lora.peft on the GPU (the first run compiles the kernels)"
  peftc train specs/examples/lora.peft --out runs/example
  step "example: eval loss with the trained adapter (PEFT format, in runs/example/adapter)"
  peftc eval --model models/tiny-llama --adapter runs/example/adapter --data models/data/completion-eval.jsonl
}

check_node
install_npm_dependencies
ensure_webgpu_adapter
run_example
step "done: run 'npm test' to run the test suite"
