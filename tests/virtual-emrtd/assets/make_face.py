#!/usr/bin/env python3
"""Draws the synthetic face of the virtual eMRTD (a cartoon: no real person).

Writes face.jpg (baseline JPEG) and face.jp2 (JPEG 2000, JP2 file format)
beside this script, both 240x320 RGB, the portrait proportions of an ICAO
passport photo. Deterministic: running it again gives the same picture
(the encoders' bytes may differ between Pillow versions).

    python3 tests/virtual-emrtd/assets/make_face.py
"""

from pathlib import Path

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 240, 320
HERE = Path(__file__).resolve().parent


def draw() -> Image.Image:
    img = Image.new("RGB", (WIDTH, HEIGHT), (214, 226, 236))  # plain light background
    d = ImageDraw.Draw(img)
    # Shoulders and neck.
    d.ellipse((20, 250, 220, 400), fill=(52, 84, 122))
    d.rectangle((100, 200, 140, 262), fill=(226, 184, 150))
    # Hair behind the head, then the face oval.
    d.ellipse((52, 42, 188, 200), fill=(70, 48, 34))
    d.ellipse((62, 62, 178, 226), fill=(238, 198, 164))
    # Ears.
    d.ellipse((52, 124, 70, 158), fill=(228, 186, 152))
    d.ellipse((170, 124, 188, 158), fill=(228, 186, 152))
    # Fringe.
    d.chord((62, 46, 178, 128), 180, 360, fill=(70, 48, 34))
    # Eyebrows, eyes (white, iris, pupil).
    d.line((88, 118, 110, 114), fill=(60, 40, 30), width=4)
    d.line((130, 114, 152, 118), fill=(60, 40, 30), width=4)
    for cx in (100, 140):
        d.ellipse((cx - 12, 126, cx + 12, 140), fill=(250, 250, 250))
        d.ellipse((cx - 6, 127, cx + 6, 139), fill=(90, 120, 70))
        d.ellipse((cx - 3, 130, cx + 3, 136), fill=(20, 20, 20))
    # Nose and a neutral mouth (ICAO photos ask for a neutral expression).
    d.line((120, 140, 114, 170, 124, 172), fill=(200, 150, 120), width=3)
    d.line((102, 192, 138, 192), fill=(170, 80, 80), width=4)
    return img


def main() -> None:
    img = draw()
    img.save(HERE / "face.jpg", "JPEG", quality=85, optimize=True)
    img.save(HERE / "face.jp2", "JPEG2000", quality_mode="rates", quality_layers=[20], irreversible=True)


if __name__ == "__main__":
    main()
