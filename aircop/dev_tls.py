"""A self-signed certificate for trying HTTPS and wss on this machine (``make run-tls``).

``python -m aircop.dev_tls [--directory .local/tls] [--host 127.0.0.1] [--port 8443]``
writes ``cert.pem`` and ``key.pem`` (once; kept while valid for at least a day) for
``localhost``, ``127.0.0.1`` and ``::1`` (and ``--host`` when it is another name or
address), then prints daphne's endpoint string for them::

    ssl:8443:privateKey=.local/tls/key.pem:certKey=.local/tls/cert.pem:interface=127.0.0.1

Development only: in production a reverse proxy holds a real certificate (docker-compose.yml).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

VALID_DAYS = 365
DEFAULT_NAMES = ("localhost", "127.0.0.1", "::1")


def _subject_alternative_names(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _still_valid(cert_path: Path, names: list[str]) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    tomorrow = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return cert.not_valid_after_utc > tomorrow and san == _subject_alternative_names(names)


def ensure_certificate(directory: Path, names: list[str]) -> tuple[Path, Path]:
    """(certificate, private key) in ``directory``: made now unless a valid one is there."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if key_path.exists() and _still_valid(cert_path, names):
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aircop local development")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(_subject_alternative_names(names), critical=False)
        # Its own issuer: a client trusts it by loading this file as its CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    key_path.touch(mode=0o600, exist_ok=True)
    key_path.chmod(0o600)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def _escape(value: str) -> str:
    """Twisted endpoint strings separate fields with ``:``; escape it in paths and addresses."""
    return value.replace("\\", "\\\\").replace(":", "\\:")


def daphne_endpoint(*, port: int, host: str, cert_path: Path, key_path: Path) -> str:
    return (
        f"ssl:{port}:privateKey={_escape(str(key_path))}:certKey={_escape(str(cert_path))}"
        f":interface={_escape(host)}"
    )


def names_for(host: str) -> list[str]:
    names = list(DEFAULT_NAMES)
    if host not in names and host not in ("0.0.0.0", "::"):  # noqa: S104 (a name, not a bind)
        names.append(host)
    return names


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--directory", type=Path, default=Path(".local") / "tls")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8443)
    args = parser.parse_args(argv)
    cert_path, key_path = ensure_certificate(args.directory, names_for(args.host))
    print(daphne_endpoint(port=args.port, host=args.host, cert_path=cert_path, key_path=key_path))


if __name__ == "__main__":
    main()
