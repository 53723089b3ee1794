"""Ed25519 keys for the PDL checkpoints, the checkpoint file, and files only their owner may read.

* ``Ed25519Signer`` fills ``domain.pdl_checkpoint.Signer`` from a PEM private key file that must be
  readable by its owner only (the gateway's user): a key the database administrator can read would
  let them sign a rewritten log. An HSM or KMS would be another class with ``key_id`` and ``sign``.
* ``PublicKeys`` fills ``SignatureCheck``: several public keys, each valid for a time range
  (``FILE``, ``FILE@FROM/UNTIL``, either end may be empty), so a log signed over years by rotated keys
  verifies; a signature counts only with the key that was valid when the checkpoint was made.
* The checkpoint file: one JSON object per line (``domain.pdl_checkpoint.to_json``), appended by every
  process that signs, mode 0600, meant to be shipped off the host (a log shipper, ``rsync``, a WORM
  store). ``read_checkpoints`` reads it back for ``pdl verify --checkpoints FILE``.
* ``write_private`` writes a secret file atomically with mode 0600 (create exclusively under a
  temporary name, fsync, rename), also used for keys written by ``dev-pki`` and ``pdl keygen``.

A key id is the first 16 hex digits of the SHA-256 of the raw 32-byte public key.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from domain.pdl_checkpoint import SignedCheckpoint, from_json, to_json
from domain.values import utc_instant


class KeyFileError(ValueError):
    """A key file that cannot be used: ``path`` and ``reason`` say which and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


class Ed25519Signer:
    """Signs with an Ed25519 private key read from a PEM file that only its owner may read."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self._key_id = key_id(self.public)

    @property
    def key_id(self) -> str:
        return self._key_id

    def sign(self, message: bytes) -> bytes:
        return self._private.sign(message)

    @classmethod
    def from_file(cls, path: str) -> Ed25519Signer:
        """Load the key; ``KeyFileError`` if it is missing, readable by group or others, or not Ed25519."""
        try:
            mode = os.stat(path).st_mode
            data = Path(path).read_bytes()
        except OSError as error:
            raise KeyFileError(path, f"cannot be read ({error.strerror})") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyFileError(path, f"mode {stat.filemode(mode)} lets others read the signing key; chmod 600 it")
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as error:
            raise KeyFileError(path, f"not an unencrypted PEM private key ({error})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(path, "not an Ed25519 key")
        return cls(key)


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A verifying key and the time range in which signatures by it are accepted (None: open)."""

    key: Ed25519PublicKey
    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @property
    def key_id(self) -> str:
        return key_id(self.key)

    def valid_at(self, at: datetime) -> bool:
        return (self.valid_from is None or at >= self.valid_from) and (
            self.valid_until is None or at < self.valid_until
        )


class PublicKeys:
    """``SignatureCheck`` over a set of public keys with validity ranges."""

    def __init__(self, keys: Sequence[PublicKey]) -> None:
        self.keys = tuple(keys)

    def __call__(self, key_id: str, message: bytes, signature: bytes, at: datetime) -> bool:
        for candidate in self.keys:
            if candidate.key_id == key_id and candidate.valid_at(at):
                try:
                    candidate.key.verify(signature, message)
                except InvalidSignature:
                    continue
                return True
        return False

    @classmethod
    def from_specs(cls, specs: Sequence[str]) -> PublicKeys:
        """Keys from ``FILE`` or ``FILE@FROM/UNTIL`` (ISO 8601, either side may be empty)."""
        return cls([public_key_from_spec(spec) for spec in specs])


def public_key_from_spec(spec: str) -> PublicKey:
    """One ``FILE[@FROM/UNTIL]``; ``KeyFileError`` for a file or range that cannot be used."""
    path, _, interval = spec.partition("@")
    valid_from = valid_until = None
    if interval:
        start, slash, end = interval.partition("/")
        if not slash:
            raise KeyFileError(path, f"validity {interval!r} is not FROM/UNTIL (ISO 8601, either may be empty)")
        try:
            valid_from = utc_instant(start) if start else None
            valid_until = utc_instant(end) if end else None
        except ValueError:
            raise KeyFileError(path, f"validity {interval!r} is not FROM/UNTIL in ISO 8601") from None
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise KeyFileError(path, f"cannot be read ({error.strerror})") from None
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        try:  # a private key file also holds its public key: convenient for the gateway itself
            private = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError):
            raise KeyFileError(path, "not a PEM public key") from None
        key = private.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(path, "not an Ed25519 key")
    return PublicKey(key, valid_from, valid_until)


def write_private(path: Path, data: bytes, replace: bool = True) -> None:
    """Write ``data`` to ``path`` with mode 0600, atomically: no reader ever sees it partly written
    or with a wider mode. Without ``replace`` an existing ``path`` is an error (``FileExistsError``)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def generate_key(private_path: Path, public_path: Path) -> str:
    """A new Ed25519 key pair: the private key 0600 (refusing to overwrite one), the public key 0644."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(private_path, pem, replace=False)
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public_path.write_bytes(public_pem)
    return key_id(private.public_key())


def append_checkpoint(path: Path, signed: SignedCheckpoint) -> None:
    """Append one checkpoint line; the file is created with mode 0600 (and set to it if it was wider).

    One ``write`` of one line on a file opened with O_APPEND: lines from several processes never
    interleave on a local file system.
    """
    line = (json.dumps(to_json(signed), sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_checkpoints(path: Path) -> list[SignedCheckpoint]:
    """Every checkpoint in a checkpoint file; ``BadCheckpointLine`` names a line that is not one."""
    found: list[SignedCheckpoint] = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    data = json.loads(line)
                except json.JSONDecodeError:
                    data = {}
                found.append(from_json(data if isinstance(data, dict) else {}, number))
    return found
