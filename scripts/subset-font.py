"""Cuts the interface font out of Noto Sans CJK SC: only the characters of `chars_file` (what
ui/tests/interface-chars.mjs prints), regular and bold, as WOFF2 under a family name of our own.

Called by scripts/subset-font.sh, which provides fontTools and brotli in a venv. Noto Sans CJK
is under the SIL Open Font License 1.1: a modified version may be shipped with the licence and
the copyright notice kept, and must not use a Reserved Font Name; upstream reserves "Source",
and "Noto" is Google's trademark, so the subset is named "Perpdesk Sans". The output is the same
bytes for the same input (no timestamps), so a rerun with unchanged strings changes nothing.
"""

import sys

from fontTools import subset
from fontTools.ttLib import TTCollection

FAMILY = "Perpdesk Sans"
# Index of the Simplified Chinese face in Debian's NotoSansCJK-*.ttc (JP, KR, SC, TC, HK, ...).
SC_INDEX = 2
ENGLISH = (3, 1, 0x409)


def subset_one(ttc_path: str, style: str, chars: str, out_path: str) -> None:
    font = TTCollection(ttc_path).fonts[SC_INDEX]
    family = font["name"].getDebugName(1)
    if family != "Noto Sans CJK SC":
        sys.exit(f"subset-font: face {SC_INDEX} of {ttc_path} is {family!r}, not Noto Sans CJK SC")
    options = subset.Options()
    # fontTools' default features are the ones a browser applies unasked (ccmp, locl, liga,
    # kern, ...); the optional ones (aalt, fwid, hwid, pwid, palt) would add ~400 glyphs that
    # app.css never asks for.
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)

    postscript = f"{FAMILY.replace(' ', '')}-{style}"
    version = font["name"].getDebugName(5)
    name = font["name"]
    # The trademark notice (ID 7) names Noto, which this font no longer uses; the typographic
    # family and style (16, 17) would repeat the old family.
    for name_id in (3, 7, 16, 17, 18, 19, 21, 22):
        name.removeNames(nameID=name_id)
    for name_id, value in (
        (1, FAMILY if style == "Regular" else f"{FAMILY} {style}"),
        (2, "Regular"),
        (3, f"{postscript};{version}"),
        (4, f"{FAMILY} {style}"),
        (5, f"{version}; subset of Noto Sans CJK SC for perpdesk's interface"),
        (6, postscript),
        (16, FAMILY),
        (17, style),
    ):
        name.setName(value, name_id, *ENGLISH)
    # Keep only the Windows English names (what browsers read), not stale Mac duplicates.
    name.names = [n for n in name.names if (n.platformID, n.platEncID, n.langID) == ENGLISH]
    cff = font["CFF "].cff
    cff.fontNames = [postscript]
    top = cff.topDictIndex[0]
    top.FullName = f"{FAMILY} {style}"
    top.FamilyName = FAMILY
    if hasattr(top, "Notice"):
        del top.Notice
    # Keep upstream's head.modified: a rerun with unchanged strings then writes the same bytes.
    font.recalcTimestamp = False
    font.flavor = "woff2"
    font.save(out_path, reorderTables=True)


def main() -> None:
    chars_file, fonts_dir, out_dir = sys.argv[1:4]
    with open(chars_file, encoding="utf-8") as f:
        chars = f.read().strip("\n")
    for style in ("Regular", "Bold"):
        out = f"{out_dir}/perpdesk-sans-{style.lower()}.woff2"
        subset_one(f"{fonts_dir}/NotoSansCJK-{style}.ttc", style, chars, out)
        print(f"subset-font: {out}")


if __name__ == "__main__":
    main()
