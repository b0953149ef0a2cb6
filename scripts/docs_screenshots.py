"""Refresh the README's home-program pictures in docs/screenshots/ from the browser tests'
artifacts: run the tests first, then this script.

    .venv/bin/python -m pytest tests/web/browser/test_program_flow.py \
        tests/web/browser/test_patient_link.py
    .venv/bin/python scripts/docs_screenshots.py

Each screenshot is copied with the empty page below its content cut off (the tests use tall
windows so that dragging needs no scrolling). The handout picture is page 1 of the handout
PDF the patient-link test downloads, drawn with pypdfium2 when it is importable (it is not a
dependency of the project: `pip install pypdfium2` in any Python with Pillow), else with
poppler's `pdftoppm` when that is on the PATH.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
DOCS = ROOT / "docs" / "screenshots"
SCREENSHOTS = (
    "program-builder.png",
    "program-versions.png",
    "program-note-97535.png",
    "patient-link-phone.png",
    "program-patient-side.png",
)
HANDOUT_PDF = "program-handout.pdf"
HANDOUT_PNG = "program-handout.png"
MARGIN = 24  # pixels of background kept under the content


def trimmed(picture: Image.Image) -> Image.Image:
    """The picture without the rows of plain background at its bottom."""
    rgb = picture.convert("RGB")
    background = Image.new("RGB", rgb.size, rgb.getpixel((rgb.width - 1, rgb.height - 1)))
    box = ImageChops.difference(rgb, background).getbbox()
    if box is None:
        return rgb
    return rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + MARGIN)))


def small(picture: Image.Image) -> Image.Image:
    """256 colours: a page of flat colours and text looks the same at a third of the size."""
    return picture.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def handout_page_one(pdf: Path) -> Image.Image:
    try:
        import pypdfium2  # type: ignore[import-not-found]
    except ImportError:
        pdftoppm = shutil.which("pdftoppm")
        if pdftoppm is None:
            sys.exit("Install pypdfium2 (pip) or poppler-utils (pdftoppm) to draw the handout.")
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "page"
            subprocess.run(
                [pdftoppm, "-png", "-r", "108", "-f", "1", "-l", "1", "-singlefile", pdf, out],
                check=True,
            )
            return Image.open(out.with_suffix(".png")).convert("RGB")
    document = pypdfium2.PdfDocument(str(pdf))
    return document[0].render(scale=1.5).to_pil().convert("RGB")


def main() -> int:
    missing = [n for n in (*SCREENSHOTS, HANDOUT_PDF) if not (ARTIFACTS / n).is_file()]
    if missing:
        print(f"Not in {ARTIFACTS}: {', '.join(missing)}; run the browser tests first.")
        return 1
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in SCREENSHOTS:
        small(trimmed(Image.open(ARTIFACTS / name))).save(DOCS / name, optimize=True)
    small(handout_page_one(ARTIFACTS / HANDOUT_PDF)).save(DOCS / HANDOUT_PNG, optimize=True)
    for name in (*SCREENSHOTS, HANDOUT_PNG):
        size = (DOCS / name).stat().st_size
        print(f"{DOCS.relative_to(ROOT) / name}: {size // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
