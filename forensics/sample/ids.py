"""Deterministic identifiers.

Every random choice in the sample comes from a `random.Random` derived from the seed and a label,
never from the clock, `uuid4` or `os.urandom`: the same seed must give byte-identical evidence.
Separate labels give independent streams, so adding baseline noise (``--scale``) never shifts an
identifier of the incident.
"""

from __future__ import annotations

import random
import string

BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"  # the alphabet of IAM key and unique ids
ALNUM = string.ascii_letters + string.digits
UPPER_ALNUM = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"
_TABLES: dict[str, str] = {}


def derive(seed: int, *labels: object) -> random.Random:
    """An independent, reproducible stream for one part of the story."""
    return random.Random(":".join([str(seed), *map(str, labels)]))


class Ids:
    """Makes AWS-shaped identifiers from one random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._bits = rng.getrandbits

    def uuid(self) -> str:
        """A version-4 UUID (eventID, requestID) drawn from the stream."""
        h = f"{self._bits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def hex(self, n: int) -> str:
        return f"{self._bits(4 * n):0{n}x}"

    def resource(self, prefix: str) -> str:
        """Long-form EC2 ids: i-0..., vol-0..., sg-0..., 17 hex digits after the dash."""
        return f"{prefix}-0{self.hex(16)}"

    def chars(self, alphabet: str, n: int) -> str:
        """n characters of `alphabet`; one byte of the stream per character (fast, and uniform
        enough for identifiers)."""
        table = _TABLES.get(alphabet)
        if table is None:
            table = _TABLES[alphabet] = (alphabet * (256 // len(alphabet) + 1))[:256]
        return "".join(map(table.__getitem__, self.rng.randbytes(n)))

    def access_key(self, prefix: str = "AKIA") -> str:
        """AKIA (long-term) or ASIA (temporary) access key id, 20 characters."""
        return prefix + self.chars(BASE32, 16)

    def unique_id(self, prefix: str) -> str:
        """IAM unique ids: AIDA (user), AROA (role), 21 characters."""
        return prefix + self.chars(BASE32, 17)

    def s3_request_id(self) -> str:
        return self.chars(UPPER_ALNUM, 16)

    def amz_id_2(self) -> str:
        return self.chars(B64, 76) + "="

    def alnum(self, n: int) -> str:
        return self.chars(ALNUM, n)
