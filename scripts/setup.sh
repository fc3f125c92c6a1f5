#!/usr/bin/env bash
# One-time, idempotent set-up for a fresh Debian 12 machine: build packages and ONNX Runtime.
# Quiet when everything is already there. Pass ORT_ROOT=<dir> to use your own ONNX Runtime instead.
set -euo pipefail
cd "$(dirname "$0")/.."

ORT_VERSION_HEADERS="1.21.0+dfsg-1"  # Debian trixie libonnxruntime-dev (headers only)
ORT_HEADERS_DEB="libonnxruntime-dev_${ORT_VERSION_HEADERS}_amd64.deb"
ORT_HEADERS_SHA256="14f7d959d5deacbcf1504830d4189f91fc67382b399ed9ae9d3aa9c4050ced08"
ORT_NPM_VERSION="1.30.0"                  # onnxruntime-node (CPU library)
ORT_NPM_TGZ_SHA256="6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75"
ORT_LIB_SHA256="ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"
ORT_DIR="third_party/onnxruntime"

APT_PACKAGES=(build-essential cmake pkg-config git ccache clang clang-format libclang-rt-14-dev
  nlohmann-json3-dev libpcre2-dev libutf8proc-dev libcpp-httplib-dev libcli11-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libmimalloc-dev python3-onnx python3-numpy
  libxxhash-dev zlib1g-dev liblzma-dev libzstd-dev)

log() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

check_sha256() {  # file expected
  local got
  got=$(sha256sum "$1" | cut -d' ' -f1)
  [ "$got" = "$2" ] || die "SHA-256 mismatch for $1: expected $2, got $got"
}

install_apt_packages() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  # Node.js may come from elsewhere (e.g. NodeSource, which bundles npm); only ask Debian when absent.
  command -v node >/dev/null || missing+=(nodejs)
  command -v npm >/dev/null || missing+=(npm)
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
  fi
  log "installing Debian packages: ${missing[*]}"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

fetch_ort_headers() {
  [ -f "$ORT_DIR/include/onnxruntime_cxx_api.h" ] && return 0
  log "fetching ONNX Runtime headers ($ORT_HEADERS_DEB from Debian trixie)"
  local tmp; tmp=$(mktemp -d)
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
  echo "deb [trusted=yes] http://deb.debian.org/debian trixie main" >"$tmp/sources.list"
  local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Architecture=amd64
    -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || die "cannot read the Debian trixie package list"
  (cd "$tmp" && apt-get "${opts[@]}" download -qq "libonnxruntime-dev=$ORT_VERSION_HEADERS" >/dev/null 2>&1) \
    || die "cannot download libonnxruntime-dev=$ORT_VERSION_HEADERS"
  check_sha256 "$tmp/$ORT_HEADERS_DEB" "$ORT_HEADERS_SHA256"
  dpkg -x "$tmp/$ORT_HEADERS_DEB" "$tmp/x"
  mkdir -p "$ORT_DIR/include"
  cp -r "$tmp/x/usr/include/onnxruntime/." "$ORT_DIR/include/"
  rm -rf "$tmp"
}

fetch_ort_library() {
  [ -f "$ORT_DIR/lib/libonnxruntime.so.1" ] && return 0
  log "fetching ONNX Runtime CPU library (npm onnxruntime-node@$ORT_NPM_VERSION)"
  local tmp; tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "onnxruntime-node@$ORT_NPM_VERSION" >/dev/null 2>&1) \
    || die "cannot download onnxruntime-node@$ORT_NPM_VERSION from npm"
  check_sha256 "$tmp/onnxruntime-node-$ORT_NPM_VERSION.tgz" "$ORT_NPM_TGZ_SHA256"
  tar -xzf "$tmp/onnxruntime-node-$ORT_NPM_VERSION.tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  check_sha256 "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_LIB_SHA256"
  mkdir -p "$ORT_DIR/lib"
  cp "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$ORT_DIR/lib/"
  ln -sf libonnxruntime.so.1 "$ORT_DIR/lib/libonnxruntime.so"
  rm -rf "$tmp"
}

install_node_references() {  # reference implementations used by tests and benchmarks
  local dir=tests/reference
  [ -f "$dir/package.json" ] || return 0
  if [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package.json" ]; then
    return 0
  fi
  log "installing npm reference packages in $dir"
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null 2>&1 \
    || npm install --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm install failed in $dir"
}

install_apt_packages
if [ -z "${ORT_ROOT:-}" ]; then
  fetch_ort_headers
  fetch_ort_library
fi
install_node_references
