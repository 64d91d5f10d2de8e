"""WeChat Official Account signatures and safe mode (AES-256-CBC with the EncodingAESKey)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.ciphers import Cipher, modes

BLOCK = 32  # WeChat pads to 32 bytes (PKCS#7 with a 32-byte block), not AES's 16


class BadMessage(ValueError):
    """A safe-mode message that does not decrypt to ours."""


def signature(token: str, *parts: str) -> str:
    """WeChat's signature: SHA-1 of the token and the parts, sorted and joined."""
    return hashlib.sha1("".join(sorted((token, *parts))).encode("utf-8")).hexdigest()


def signed(token: str, given: str, *parts: str) -> bool:
    """Does `given` sign these parts with our token?"""
    return bool(token) and hmac.compare_digest(signature(token, *parts), given or "")


class SafeMode:
    """Encrypts and decrypts message bodies as WeChat's safe mode does."""

    def __init__(self, encoding_aes_key: str, app_id: str) -> None:
        self.key = base64.b64decode(encoding_aes_key + "=")
        if len(self.key) != 32:
            raise ValueError("the EncodingAESKey must be 43 characters")
        self.app_id = app_id.encode("utf-8")

    def _cipher(self) -> Cipher[modes.CBC]:
        # Imported here: an app without WeChat's safe mode never loads cryptography (7 MB).
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        return Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16]))

    def decrypt(self, encrypted: str) -> str:
        """The XML inside an <Encrypt> element; refuses another account's message."""
        try:
            decryptor = self._cipher().decryptor()
            plain = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        except ValueError as error:
            raise BadMessage("cannot decrypt") from error
        pad = plain[-1] if plain else 0
        if not 1 <= pad <= BLOCK:
            raise BadMessage("bad padding")
        content = plain[16:-pad]
        if len(content) < 4:
            raise BadMessage("too short")
        (length,) = struct.unpack(">I", content[:4])
        xml, app_id = content[4 : 4 + length], content[4 + length :]
        if app_id != self.app_id:
            raise BadMessage("the message is for another account")
        try:
            return xml.decode("utf-8")
        except UnicodeDecodeError as error:
            raise BadMessage("not UTF-8") from error

    def encrypt(self, xml: str) -> str:
        """The base64 text WeChat puts in <Encrypt> (used by the tests' fake WeChat)."""
        body = xml.encode("utf-8")
        content = os.urandom(16) + struct.pack(">I", len(body)) + body + self.app_id
        pad = BLOCK - len(content) % BLOCK
        encryptor = self._cipher().encryptor()
        sealed = encryptor.update(content + bytes([pad]) * pad) + encryptor.finalize()
        return base64.b64encode(sealed).decode("ascii")
