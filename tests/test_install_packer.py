"""The image's Packer download is verified: a fake release on loopback, signed with a throwaway
key, proves the script installs a good release and refuses a wrong key, a bad signature and a
tampered zip. (HashiCorp's release site is unreachable here; this tests the same script.)"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import ROOT

SCRIPT = ROOT / "docker" / "install-packer.sh"
VERSION = "9.9.9"
NEEDED = ("gpg", "curl", "unzip", "sha256sum")
pytestmark = pytest.mark.skipif(
    any(shutil.which(t) is None for t in NEEDED),
    reason=f"SKIPPED: the Packer install check needs {', '.join(NEEDED)} on the machine",
)


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Quiet."""


def gpg(home: Path, *args: str, data: bytes | None = None) -> str:
    done = subprocess.run(
        ["gpg", "--batch", "--homedir", str(home), *args],
        input=data,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode()


def make_key(home: Path, name: str) -> str:
    home.mkdir(mode=0o700)
    gpg(
        home,
        "--passphrase",
        "",
        "--quick-gen-key",
        f"{name} <{name}@example.com>",
        "ed25519",
        "sign",
        "1d",
    )
    line = next(
        x for x in gpg(home, "--with-colons", "--fingerprint").splitlines() if x.startswith("fpr:")
    )
    return line.split(":")[9]


@pytest.fixture
def release(tmp_path: Path) -> Iterator[dict[str, object]]:
    root = tmp_path / "site"
    (root / "packer" / VERSION).mkdir(parents=True)
    fingerprint = make_key(tmp_path / "gpg-release", "release")
    other = make_key(tmp_path / "gpg-other", "other")
    directory = root / "packer" / VERSION
    archive = directory / f"packer_{VERSION}_linux_amd64.zip"
    with zipfile.ZipFile(archive, "w") as z:
        info = zipfile.ZipInfo("packer")
        info.external_attr = 0o755 << 16
        z.writestr(info, f"#!/bin/sh\necho 'Packer v{VERSION}'\n")
    sums = directory / f"packer_{VERSION}_SHA256SUMS"
    sums.write_text(f"{hashlib.sha256(archive.read_bytes()).hexdigest()}  {archive.name}\n")
    gpg(tmp_path / "gpg-release", "--detach-sign", "--output", f"{sums}.sig", str(sums))
    (root / "key.asc").write_text(gpg(tmp_path / "gpg-release", "--armor", "--export"))
    (root / "other.asc").write_text(gpg(tmp_path / "gpg-other", "--armor", "--export"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    yield {
        "url": url,
        "fingerprint": fingerprint,
        "other": other,
        "root": root,
        "archive": archive,
        "sums": sums,
        "tmp": tmp_path,
    }
    server.shutdown()
    server.server_close()


def install(
    release: dict[str, object], *, fingerprint: str, key: str = "key.asc"
) -> subprocess.CompletedProcess[str]:
    tmp = Path(str(release["tmp"]))
    pin = tmp / "pin"
    pin.write_text(fingerprint + "\n")
    out = tmp / "out"
    env = {
        **os.environ,
        "PACKER_RELEASES_URL": f"{release['url']}/packer",
        "HASHICORP_KEY_URL": f"{release['url']}/{key}",
        "PACKER_KEY_FINGERPRINT_FILE": str(pin),
        "PACKER_OUT": str(out),
    }
    return subprocess.run(
        ["sh", str(SCRIPT), VERSION, "amd64"], env=env, capture_output=True, text=True, check=False
    )


def test_good_release_installs(release: dict[str, object]) -> None:
    done = install(release, fingerprint=str(release["fingerprint"]))
    assert done.returncode == 0, done.stderr
    assert f"Packer v{VERSION}" in done.stdout
    assert (Path(str(release["tmp"])) / "out" / "packer").exists()


def test_key_with_another_fingerprint_is_refused(release: dict[str, object]) -> None:
    done = install(release, fingerprint=str(release["other"]))
    assert done.returncode == 1
    assert "not signed by the pinned release key" in done.stderr


def test_signature_by_another_key_is_refused(release: dict[str, object]) -> None:
    # The key URL serves another key: the signature cannot be verified, nothing installed.
    done = install(release, fingerprint=str(release["fingerprint"]), key="other.asc")
    assert done.returncode == 1
    assert "signer: 'none'" in done.stderr


def test_tampered_zip_is_refused(release: dict[str, object]) -> None:
    archive = Path(str(release["archive"]))
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr("extra", "tampered")
    done = install(release, fingerprint=str(release["fingerprint"]))
    assert done.returncode == 1
    assert "does not match its SHA256SUMS line" in done.stderr
    assert not (Path(str(release["tmp"])) / "out" / "packer").exists()
