"""Protect exact spans inside prose (numbers, inline code, URLs) from the compressor.

Each protected span is replaced by one placeholder word that the engine receives as a force
token, so it is always kept; afterwards the k-th placeholder gets the k-th original span back.
llmlingua would otherwise rebuild "4.2" from word pieces as "4. 2". If the engine returns a
different number of placeholders, the piece is sent uncompressed (never a damaged prompt).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PLACEHOLDER = "@@KEEP@@"
_PROTECTED = re.compile(r"`[^`\n]+`|\bhttps?://\S+|\S*\d\S*")
_SPACE_AROUND_NEWLINE = re.compile(r"[ \t]*\n[ \t]*")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.;:!?)\]])")


@dataclass(frozen=True)
class Protected:
    text: str  # the prose with placeholders
    originals: tuple[str, ...]


def protect(text: str) -> Protected | None:
    """`text` with its exact spans replaced; None if the text already contains the placeholder."""
    if PLACEHOLDER in text:
        return None
    originals: list[str] = []

    def _swap(match: re.Match[str]) -> str:
        originals.append(match.group(0))
        return PLACEHOLDER

    return Protected(_PROTECTED.sub(_swap, text), tuple(originals))


def restore(compressed: str, protected: Protected) -> str | None:
    """The engine's output with the original spans back; None if placeholders went missing."""
    parts = tidy(compressed).split(PLACEHOLDER)
    if len(parts) != len(protected.originals) + 1:
        return None
    out = [parts[0]]
    for original, after in zip(protected.originals, parts[1:], strict=True):
        out.append(original)
        out.append(after)
    return "".join(out)


def tidy(text: str) -> str:
    """Undo the engine's word-joining artefacts: spaces around newlines and before punctuation."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1", _SPACE_AROUND_NEWLINE.sub("\n", text)).strip(" ")
