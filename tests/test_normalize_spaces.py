"""normalize_text maps every control character and space separator through a fixed table."""

import unicodedata

from tracker.core.normalize import normalize_text


def test_every_control_and_space_separator_becomes_a_plain_space():
    # The table only covers code points below U+3001; this fails if Unicode ever adds a
    # control or space separator above it.
    for code in range(0x110000):
        char = chr(code)
        if char in "\n\t\r\x0b\x0c\x85" or unicodedata.category(char) not in ("Cc", "Zs"):
            continue
        assert normalize_text(f"a{char}b") == "a b", f"U+{code:04X}"
