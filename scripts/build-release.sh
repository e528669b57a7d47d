#!/usr/bin/env bash
# Builds the release binary the container image ships, and checks what it
# links against: nothing but glibc, libgcc_s and the loader (SQLite is
# compiled in, TLS is rustls), so it runs on any glibc ≥ the build host's,
# including distroless/cc. Usage: scripts/build-release.sh [DEST]
# (default target/release/rebound). Prints the size.
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:-}"
cargo build --release --locked --bin rebound
binary=target/release/rebound
allowed='linux-vdso|libc\.so|libm\.so|libgcc_s\.so|ld-linux|libpthread\.so|libdl\.so|librt\.so'
if command -v ldd >/dev/null 2>&1; then
  unexpected=$(ldd "$binary" | grep -Ev "$allowed" || true)
  if [ -n "$unexpected" ]; then
    echo "the binary links more than glibc and libgcc_s:" >&2
    echo "$unexpected" >&2
    exit 1
  fi
fi
if [ -n "$dest" ]; then
  mkdir -p "$(dirname "$dest")"
  cp "$binary" "$dest"
  binary="$dest"
fi
echo "$binary: $(du -h "$binary" | cut -f1)"
