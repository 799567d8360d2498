"""What a printed bill needs beyond HTML: the 26-digit barcode drawn as Interleaved 2 of 5 (SVG made
here, no library), and the PDF, rendered by WeasyPrint with the Vazirmatn font from npm."""

from pathlib import Path

from core.text import digits_only

# Interleaved 2 of 5: each digit is five elements, two of them wide; digit pairs interleave, the
# first digit in the bars and the second in the spaces.
_PATTERNS = {"0": "nnwwn", "1": "wnnnw", "2": "nwnnw", "3": "wwnnn", "4": "nnwnw", "5": "wnwnn", "6": "nwwnn",
             "7": "nnnww", "8": "wnnwn", "9": "nwnwn"}
_START, _STOP = "nnnn", "wnn"
WIDE_RATIO = 3
QUIET = 10  # narrow widths of white either side

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FONT_DIRS = (PROJECT_ROOT / "node_modules" / "vazirmatn" / "fonts" / "ttf",)
FONT_FILES = {"normal": "Vazirmatn-Regular.ttf", "bold": "Vazirmatn-Bold.ttf"}
VENDOR_FONT = PROJECT_ROOT / "web" / "static" / "vendor" / "vazirmatn" / "fonts" / "webfonts" / "Vazirmatn[wght].woff2"


def interleaved_2_of_5(digits: str) -> str:
    """The element widths, alternating bar and space from a bar: 'n' narrow, 'w' wide."""
    digits = digits_only(digits)
    if not digits or len(digits) % 2:
        raise ValueError("Interleaved 2 of 5 encodes an even number of digits")
    body = "".join(bar + space for first, second in zip(digits[0::2], digits[1::2], strict=True)
                   for bar, space in zip(_PATTERNS[first], _PATTERNS[second], strict=True))
    return _START + body + _STOP


def barcode_svg(digits: str, narrow: float = 1.0, height: float = 40.0) -> str:
    """An SVG of the barcode, bars as rectangles (scales to any width: set the element's width in CSS)."""
    elements = interleaved_2_of_5(digits)
    x, rects = QUIET * narrow, []
    for index, element in enumerate(elements):
        width = narrow * (WIDE_RATIO if element == "w" else 1)
        if index % 2 == 0:
            rects.append(f'<rect x="{x:g}" y="0" width="{width:g}" height="{height:g}"/>')
        x += width
    total = x + QUIET * narrow
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total:g} {height:g}" '
            f'preserveAspectRatio="none" role="img" aria-label="{digits_only(digits)}" class="barcode">'
            f'<rect fill="#fff" width="{total:g}" height="{height:g}"/><g fill="#000">'
            + "".join(rects) + "</g></svg>")


def font_faces_css() -> str:
    """@font-face rules pointing at Vazirmatn on disk, for WeasyPrint (which reads files, not our server)."""
    rules = []
    for weight, filename in FONT_FILES.items():
        path = next((d / filename for d in FONT_DIRS if (d / filename).exists()), None)
        if path is None and VENDOR_FONT.exists():
            path = VENDOR_FONT
        if path is not None:
            rules.append(f"@font-face {{ font-family: 'Vazirmatn'; font-weight: {weight}; "
                         f"src: url('{path.as_uri()}'); }}")
    return "\n".join(rules)


def render_pdf(html: str) -> bytes:
    """The page as PDF. WeasyPrint is imported here: only this needs its system libraries (Pango)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=str(PROJECT_ROOT)).write_pdf()
