#!/bin/sh
# Download Packer from HashiCorp's release site and verify it before it is installed:
# the release key must have the fingerprint committed in this repository, SHA256SUMS must carry
# a valid signature by that key, and the zip must match its line in SHA256SUMS.
#   install-packer.sh VERSION [ARCH]    ARCH: amd64 | arm64; empty: this machine's (dpkg)
# The URLs and paths can be overridden (the tests serve a fake release on loopback).
set -eu
version="$1"
arch="${2:-}"
[ -n "$arch" ] || arch="$(dpkg --print-architecture)"
case "$arch" in
  amd64|arm64) ;;
  *) echo "install-packer: unsupported architecture '$arch' (amd64 or arm64)" >&2; exit 1 ;;
esac
releases="${PACKER_RELEASES_URL:-https://releases.hashicorp.com/packer}"
key_url="${HASHICORP_KEY_URL:-https://www.hashicorp.com/.well-known/pgp-key.txt}"
fingerprint_file="${PACKER_KEY_FINGERPRINT_FILE:-/tmp/hashicorp-release-key.fingerprint}"
out="${PACKER_OUT:-/out}"
pinned="$(tr -d ' \n' < "$fingerprint_file")"
base="${releases}/${version}"
zip="packer_${version}_linux_${arch}.zip"
sums="packer_${version}_SHA256SUMS"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
curl -fsSL --retry 3 -o "$zip" "$base/$zip"
curl -fsSL --retry 3 -o "$sums" "$base/$sums"
curl -fsSL --retry 3 -o "$sums.sig" "$base/$sums.sig"
curl -fsSL --retry 3 -o release-key.asc "$key_url"
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --import release-key.asc 2>/dev/null
# The signature must come from a key whose primary fingerprint is the pinned one.
gpg --batch --status-fd 1 --verify "$sums.sig" "$sums" > status.txt 2>/dev/null || true
signer="$(awk '$2 == "VALIDSIG" { print $NF }' status.txt)"
if [ "$signer" != "$pinned" ]; then
  echo "install-packer: $sums is not signed by the pinned release key $pinned (signer: '${signer:-none}')" >&2
  exit 1
fi
if ! grep " ${zip}\$" "$sums" | sha256sum -c - >/dev/null; then
  echo "install-packer: $zip does not match its SHA256SUMS line" >&2
  exit 1
fi
mkdir -p "$out"
unzip -q -o "$zip" packer -d "$out"
"$out/packer" version
