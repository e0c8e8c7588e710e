#!/bin/sh
# Download Packer from HashiCorp's release site and verify it before it is installed:
# the release key must have the fingerprint committed in this repository, SHA256SUMS must carry
# a valid signature by that key, and the zip must match its line in SHA256SUMS.
set -eu
version="$1"
arch="$2"
pinned="$(tr -d ' \n' < /tmp/hashicorp-release-key.fingerprint)"
base="https://releases.hashicorp.com/packer/${version}"
zip="packer_${version}_linux_${arch}.zip"
sums="packer_${version}_SHA256SUMS"
work="$(mktemp -d)"
cd "$work"
curl -fsSL --retry 3 -o "$zip" "$base/$zip"
curl -fsSL --retry 3 -o "$sums" "$base/$sums"
curl -fsSL --retry 3 -o "$sums.sig" "$base/$sums.sig"
curl -fsSL --retry 3 -o hashicorp.asc https://www.hashicorp.com/.well-known/pgp-key.txt
export GNUPGHOME="$work/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --import hashicorp.asc
# The signature must come from a key whose primary fingerprint is the pinned one.
gpg --batch --status-fd 1 --verify "$sums.sig" "$sums" > status.txt 2>/dev/null
signer="$(awk '$2 == "VALIDSIG" { print $NF }' status.txt)"
if [ "$signer" != "$pinned" ]; then
  echo "SHA256SUMS is not signed by HashiCorp's release key ($pinned); got '$signer'" >&2
  exit 1
fi
grep " ${zip}\$" "$sums" | sha256sum -c -
mkdir -p /out
unzip -q "$zip" packer -d /out
/out/packer version
rm -rf "$work"
