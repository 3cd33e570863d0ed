"""What the loader lets in: the price band, decompression bounds, the share a replacement may drop.

One frozen record so that every path calling the loader (``nbaprops ingest``, the daily
run, live fetches) applies the same limits, read from settings (``NBAPROPS_INGEST_*``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nbaprops.core.settings import Settings


@dataclass(frozen=True)
class IngestLimits:
    """Bounds a file must keep to be loaded.

    ``price_min`` / ``price_max``: the sane band of an American price, filled into the
    sources' ``{price_min}`` / ``{price_max}`` check placeholders (a row outside it is
    quarantined). ``max_decompressed_bytes`` and ``max_compression_ratio``: a file that
    decompresses past either is refused before it is held in memory (the ratio is judged
    once the output passes 16 MiB). ``max_replace_loss``: the largest share of a file's
    earlier rows a changed version may drop without ``--replace``.
    """

    price_min: float = -10000.0
    price_max: float = 10000.0
    max_decompressed_bytes: int = 2 * 1024**3
    max_compression_ratio: float = 200.0
    max_replace_loss: float = 0.2

    def __post_init__(self) -> None:
        if not (math.isfinite(self.price_min) and self.price_min < -100):
            raise ValueError(f"price_min must be a finite price below -100, not {self.price_min}")
        if not (math.isfinite(self.price_max) and self.price_max > 100):
            raise ValueError(f"price_max must be a finite price above 100, not {self.price_max}")
        if self.max_decompressed_bytes <= 0:
            raise ValueError("max_decompressed_bytes must be positive")
        if not self.max_compression_ratio > 1:
            raise ValueError("max_compression_ratio must be above 1")
        if not 0 <= self.max_replace_loss <= 1:
            raise ValueError("max_replace_loss must be a share between 0 and 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestLimits:
        return cls(
            price_min=float(settings.ingest.ingest_price_min),
            price_max=float(settings.ingest.ingest_price_max),
            max_decompressed_bytes=int(settings.ingest.ingest_max_decompressed_bytes),
            max_compression_ratio=float(settings.ingest.ingest_max_compression_ratio),
            max_replace_loss=float(settings.ingest.ingest_max_replace_loss),
        )
