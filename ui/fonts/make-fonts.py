#!/usr/bin/env python3
"""Regenerates the kiosk's bundled fonts from Debian's Noto fonts.

The kiosk renders with no system fonts at all, so every script it shows is
bundled here. Each font is a subset of Noto (SIL Open Font License 1.1, see
OFL.txt), renamed "Lane Sans ..." so it can never be confused with a Noto
font installed on the system:

- Lane Sans: Noto Sans, Latin (with Vietnamese) and common punctuation.
- Lane Sans Thai / Khmer / Lao / Myanmar / Tamil: the whole Unicode block of
  the script from Noto Sans <Script>, merged with the Latin subset, so digits,
  "PIN" and punctuation inside a translated sentence render in the same font
  (Slint does not fall back from one bundled font to another).
- Lane Sans SC: Noto Sans CJK SC cut down to the characters the Chinese
  translation and the language list use, plus CJK punctuation and Latin.
  Change the Chinese translation, run this again.

Needs: Debian fonts-noto-core and fonts-noto-cjk, and fonttools
(pip install fonttools). Run from anywhere:

    python3 ui/fonts/make-fonts.py

`cargo test -p ui` checks that every translated string is covered by the font
its language uses.
"""

import pathlib
import tempfile

from fontTools import subset
from fontTools.merge import Merger
from fontTools.ttLib import TTCollection, TTFont

HERE = pathlib.Path(__file__).resolve().parent
LANG_DIR = HERE.parent / "lang"
NOTO = pathlib.Path("/usr/share/fonts/truetype/noto")
NOTO_CJK = pathlib.Path("/usr/share/fonts/opentype/noto")
CJK_SC_INDEX = 2  # "Noto Sans CJK SC" inside NotoSansCJK-*.ttc

LATIN = (
    list(range(0x20, 0x7F))  # Basic Latin
    + list(range(0xA0, 0x180))  # Latin-1 Supplement, Latin Extended-A
    + list(range(0x1A0, 0x1B1))  # O/U with horn (Vietnamese)
    + list(range(0x300, 0x310))  # combining accents
    + [0x323]  # combining dot below (Vietnamese)
    + list(range(0x1EA0, 0x1EFA))  # Vietnamese
    + list(range(0x2010, 0x2028))  # dashes, quotes, bullet, ellipsis
    + [0x200B, 0x200C, 0x200D, 0x2060, 0x25CC, 0x2190, 0x2192, 0x2713]
)

SCRIPTS = {
    "Thai": list(range(0x0E00, 0x0E80)),
    "Khmer": list(range(0x1780, 0x1800)) + list(range(0x19E0, 0x1A00)),
    "Lao": list(range(0x0E80, 0x0F00)),
    "Myanmar": list(range(0x1000, 0x10A0)) + list(range(0xAA60, 0xAA80)),
    "Tamil": list(range(0x0B80, 0x0C00)),
}

CJK_EXTRA = "简体中文" + "".join(chr(c) for c in range(0x3000, 0x3040)) + "".join(
    chr(c) for c in range(0xFF01, 0xFF5F)
)


def po_strings(lang):
    """Every msgstr of one language's catalogue, as one string."""
    text = (LANG_DIR / lang / "LC_MESSAGES" / "ui.po").read_text(encoding="utf-8")
    out = []
    in_msgstr = False
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("msgstr"):
            in_msgstr = True
            out.append(line.split(" ", 1)[1])
        elif line.startswith('"') and in_msgstr:
            out.append(line)
        elif line.startswith("msgid"):
            in_msgstr = False
    return "".join(out)


def subset_font(src, unicodes, out_path, font_number=0):
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.hinting = False  # large kiosk text; merged fonts cannot share hinting programs
    options.desubroutinize = True
    options.notdef_outline = True
    options.glyph_names = False
    options.font_number = font_number
    font = subset.load_font(str(src), options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=unicodes)
    subsetter.subset(font)
    subset.save_font(font, str(out_path), options)


def rename(path, family, weight):
    font = TTFont(str(path))
    name = font["name"]
    full = f"{family} {weight}"
    postscript = f"{family.replace(' ', '')}-{weight}"
    for record in list(name.names):
        if record.nameID in (1, 3, 4, 6, 16, 17, 21, 22):
            name.removeNames(nameID=record.nameID)
    for name_id, value in (
        (1, family),
        (2, weight),
        (3, f"{postscript};ASEAN Lane subset of Noto"),
        (4, full),
        (6, postscript),
    ):
        name.setName(value, name_id, 3, 1, 0x409)
        name.setName(value, name_id, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FamilyName = family
        top.FullName = full
    font.save(str(path))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        for weight in ("Regular", "Bold"):
            latin_chars = set(LATIN)
            for lang in ("ms", "id", "vi", "fil", "tet", "pt"):
                latin_chars |= {ord(c) for c in po_strings(lang)}
            latin = tmp / f"latin-{weight}.ttf"
            subset_font(NOTO / f"NotoSans-{weight}.ttf", sorted(latin_chars), latin)

            out = HERE / f"LaneSans-{weight}.ttf"
            out.write_bytes(latin.read_bytes())
            rename(out, "Lane Sans", weight)

            for script, block in SCRIPTS.items():
                part = tmp / f"{script}-{weight}.ttf"
                subset_font(NOTO / f"NotoSans{script}-{weight}.ttf", block + [0x20, 0xA0], part)
                merged = Merger().merge([str(part), str(latin)])
                out = HERE / f"LaneSans{script}-{weight}.ttf"
                merged.save(str(out))
                rename(out, f"Lane Sans {script}", weight)

            cjk_chars = {ord(c) for c in po_strings("zh_CN") + CJK_EXTRA}
            cjk_chars |= set(range(0x20, 0x7F))
            out = HERE / f"LaneSansSC-{weight}.otf"
            subset_font(NOTO_CJK / f"NotoSansCJK-{weight}.ttc", sorted(cjk_chars), out, CJK_SC_INDEX)
            rename(out, "Lane Sans SC", weight)
    for path in sorted(HERE.glob("LaneSans*")):
        print(f"{path.name}: {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
