"""TLS from /ssl: the files must be inside /ssl; a missing or unusable one is named in the error."""

import os
import ssl
from pathlib import Path

import pytest

from garden_logger.tls import TlsError, server_context

# A self-signed test certificate (CN=localhost, valid until 2126) and its key, used nowhere else.
CERTIFICATE = """\
-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIUcRlAUY5WMrEecTR05/Np51UMsJQwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNjA1MTc0NVoYDzIxMjYxMTAy
MDUxNzQ1WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQFNr8axGvji+5VBEMGaq+Qn3NOyizXF9xVVzGvs/tBKCSXshcTS/k0
vKyLvGaFIgSBAwJvSaU8a/Q0wLTEtzKqo1MwUTAdBgNVHQ4EFgQUkWAOlfU/tOCm
ep5IAgpQZZ9Pm00wHwYDVR0jBBgwFoAUkWAOlfU/tOCmep5IAgpQZZ9Pm00wDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiEA9BlHJ1fFdPuaCujCVWZN
myyYYfCNgzC1X0qgpttTNGQCIA+ri2reuJwqq5riYIj2EuHswByeEBdGz3uHW6jV
RiI0
-----END CERTIFICATE-----
"""
KEY = """\
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgBM4LFPuRXOBkCF70
EWsVeelNiJfIT0uA+1M59sVayNihRANCAAQFNr8axGvji+5VBEMGaq+Qn3NOyizX
F9xVVzGvs/tBKCSXshcTS/k0vKyLvGaFIgSBAwJvSaU8a/Q0wLTEtzKq
-----END PRIVATE KEY-----
"""


@pytest.fixture
def ssl_dir(tmp_path: Path) -> Path:
    """/ssl with a usable certificate and key, and a copy of them outside it."""
    folder = tmp_path / "ssl"
    (folder / "site").mkdir(parents=True)
    for where in (folder, folder / "site", tmp_path):
        (where / "fullchain.pem").write_text(CERTIFICATE)
        (where / "privkey.pem").write_text(KEY)
    return folder


def test_loads_the_certificate_and_key(ssl_dir: Path) -> None:
    assert isinstance(server_context("fullchain.pem", "privkey.pem", ssl_dir), ssl.SSLContext)
    assert isinstance(server_context("site/fullchain.pem", "privkey.pem", ssl_dir), ssl.SSLContext)


@pytest.mark.parametrize(
    "name",
    [
        "../fullchain.pem",
        "site/../../fullchain.pem",
        "/etc/ssl/fullchain.pem",
        "{ssl}/fullchain.pem",  # absolute, even inside /ssl: the option is relative to it
        "fullchain.pem\0",
        "",
    ],
)
@pytest.mark.parametrize("option", ["certfile", "keyfile"])
def test_names_outside_ssl_are_refused_naming_the_option(
    ssl_dir: Path, name: str, option: str
) -> None:
    name = name.format(ssl=ssl_dir)
    names = {"certfile": "fullchain.pem", "keyfile": "privkey.pem"} | {option: name}
    expected = f"is not a file name inside .*: set the option {option} to a file in"
    with pytest.raises(TlsError, match=expected) as caught:
        server_context(names["certfile"], names["keyfile"], ssl_dir)
    assert "\n" not in str(caught.value)


def test_links_are_refused(ssl_dir: Path) -> None:
    (ssl_dir / "out.pem").symlink_to(ssl_dir.parent / "fullchain.pem")
    with pytest.raises(TlsError, match=r"is a link.*: set the option certfile"):
        server_context("out.pem", "privkey.pem", ssl_dir)


def test_a_fifo_is_refused_without_waiting_for_a_writer(ssl_dir: Path) -> None:
    os.mkfifo(ssl_dir / "pipe.pem")
    with pytest.raises(TlsError, match=r"is not a regular file: set the option keyfile"):
        server_context("fullchain.pem", "pipe.pem", ssl_dir)


def test_missing_certificate_names_the_file_and_the_option(tmp_path: Path) -> None:
    with pytest.raises(TlsError, match=r"fullchain\.pem does not exist: set the option certfile"):
        server_context("fullchain.pem", "privkey.pem", folder=tmp_path)


def test_missing_key_names_the_option(tmp_path: Path) -> None:
    (tmp_path / "fullchain.pem").write_text("x")
    with pytest.raises(TlsError, match="set the option keyfile"):
        server_context("fullchain.pem", "privkey.pem", folder=tmp_path)


def test_unusable_files_are_reported(tmp_path: Path) -> None:
    (tmp_path / "fullchain.pem").write_text("not a certificate")
    (tmp_path / "privkey.pem").write_text("not a key")
    with pytest.raises(TlsError, match="cannot use"):
        server_context("fullchain.pem", "privkey.pem", folder=tmp_path)
