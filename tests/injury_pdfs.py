"""A replaying transport for the official injury report: the real sample PDFs of the
data folder (availability/official_pdf_samples) served at their league URLs, HTTP 403
for every other report (the CDN's answer for a report not published)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nbaprops.ingest.injury_pdf import REPORT_BASE_URL
from nbaprops.ingest.transport import HttpStatusError


def sample_pdfs(data_dir: Path) -> dict[str, bytes]:
    """URL → bytes of every sample PDF."""
    folder = data_dir / "availability" / "official_pdf_samples"
    return {REPORT_BASE_URL + p.name: p.read_bytes() for p in sorted(folder.glob("*.pdf"))}


@dataclass
class PdfReplay:
    """Serves ``files`` by URL, 403 for any other; records every URL asked for."""

    files: Mapping[str, bytes]
    requests: list[str] = field(default_factory=list)

    def get_bytes(self, url: str, headers: Mapping[str, str] | None = None) -> bytes:
        self.requests.append(url)
        if url not in self.files:
            raise HttpStatusError(url, 403, "HTTP 403 Forbidden")
        return self.files[url]
