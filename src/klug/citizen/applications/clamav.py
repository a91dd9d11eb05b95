"""A virus scan of an upload by clamd (ClamAV's daemon) over its UNIX socket.

The INSTREAM command is a few lines of protocol (clamd(8)): send ``zINSTREAM\\0``, then
the data in chunks each preceded by its length as a 4-byte big-endian integer, then a
zero length; clamd answers ``stream: OK`` or ``stream: <signature> FOUND``. Small
enough to speak ourselves rather than depend on an unmaintained client library.
"""

from __future__ import annotations

import socket
import struct

CHUNK_BYTES = 64 * 1024
TIMEOUT_S = 30.0


class ScanUnavailable(Exception):
    """clamd could not be asked or gave no usable answer (the upload is refused)."""


def scan(socket_path: str, data: bytes, *, timeout_s: float = TIMEOUT_S) -> str | None:
    """The name of the signature found in ``data``, or None when clamd finds nothing."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout_s)
            connection.connect(socket_path)
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(data), CHUNK_BYTES):
                chunk = data[start : start + CHUNK_BYTES]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0"):
                received = connection.recv(4096)
                if not received:
                    break
                reply += received
    except OSError as exc:
        raise ScanUnavailable(f"clamd at {socket_path}: {exc}") from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    if answer.endswith("OK"):
        return None
    if answer.endswith("FOUND"):
        return answer.removeprefix("stream:").removesuffix("FOUND").strip() or "unknown"
    raise ScanUnavailable(f"clamd at {socket_path} answered {answer[:200]!r}")
