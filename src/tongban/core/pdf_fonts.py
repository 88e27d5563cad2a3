"""The Chinese font the PDFs (receipts, licences) embed.

A PDF that only names a font (reportlab's CID font STSong-Light) shows Chinese only where the reader has an
Adobe Asian font pack; embedding a TrueType font makes the document print the same everywhere. reportlab
embeds TrueType outlines (not the CFF outlines of the Noto CJK OpenType files), so the font is WenQuanYi Zen
Hei from the Debian package ``fonts-wqy-zenhei`` (``.ci/run`` installs it; ``make`` checks it and README says
how to install it), or any TrueType file named by ``TONGBAN_PDF_FONT``. Only the glyphs a document uses are
embedded (a subset of some kilobytes). Without such a file the PDFs fall back to STSong-Light, and the system
check ``tongban.W004`` says so.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont

EMBEDDED_NAME = "TongbanCJK"
FALLBACK_NAME = "STSong-Light"
CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
DEBIAN_PACKAGE = "fonts-wqy-zenhei"

_lock = threading.Lock()
_registered: str | None = None


def cjk_font_file() -> Path | None:
    """The TrueType file to embed: ``TONGBAN_PDF_FONT`` when set, else the first installed candidate."""
    configured = os.environ.get("TONGBAN_PDF_FONT", "").strip()
    if configured:
        path = Path(configured)
        return path if path.is_file() else None
    return next((Path(p) for p in CANDIDATES if Path(p).is_file()), None)


def cjk_font() -> str:
    """Register the Chinese font once (about 0.4 s to read the file) and return its reportlab name."""
    global _registered
    if _registered is not None:
        return _registered
    with _lock:
        if _registered is None:
            path = cjk_font_file()
            if path is not None:
                index = {"subfontIndex": 0} if path.suffix.lower() == ".ttc" else {}
                pdfmetrics.registerFont(TTFont(EMBEDDED_NAME, str(path), **index))
                _registered = EMBEDDED_NAME
            else:
                if FALLBACK_NAME not in pdfmetrics.getRegisteredFontNames():
                    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_NAME))
                _registered = FALLBACK_NAME
    return _registered
