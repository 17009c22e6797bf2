"""Split a message's text into pieces that may be compressed and pieces kept verbatim.

Kept verbatim: fenced code blocks, JSON/structured blocks, markdown tables, indented code, short
paragraphs (headings, instructions), and, in the last user message, the final question or
instruction. Inside compressible prose, numbers, inline code and URLs are protected separately
(placeholders.py). Joining the pieces' texts always gives back the input exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass

_FENCE = re.compile(r"^[ \t]*(```|~~~)[^\n]*\n.*?^[ \t]*\1[^\n]*$", re.MULTILINE | re.DOTALL)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=\S)")


@dataclass(frozen=True)
class Piece:
    text: str
    compress: bool


def split_text(
    text: str,
    count: Callable[[str], int],
    *,
    min_segment_tokens: int,
    keep_final_question: bool = False,
    question_max_tokens: int = 200,
) -> list[Piece]:
    """The pieces of `text`, in order; `compress` marks long prose paragraphs."""
    pieces: list[Piece] = []
    for chunk, is_code in _split_fences(text):
        if is_code:
            pieces.append(Piece(chunk, False))
            continue
        for paragraph, separator in _split_paragraphs(chunk):
            prose = not _is_structured(paragraph) and count(paragraph) >= min_segment_tokens
            pieces.append(Piece(paragraph, prose))
            if separator:
                pieces.append(Piece(separator, False))
    if keep_final_question:
        pieces = _keep_final_question(pieces, count, question_max_tokens)
    return _merge_verbatim(pieces)


def _split_fences(text: str) -> list[tuple[str, bool]]:
    parts: list[tuple[str, bool]] = []
    position = 0
    for match in _FENCE.finditer(text):
        if match.start() > position:
            parts.append((text[position : match.start()], False))
        parts.append((match.group(0), True))
        position = match.end()
    if position < len(text):
        parts.append((text[position:], False))
    return parts


def _split_paragraphs(text: str) -> list[tuple[str, str]]:
    """(paragraph, the blank-line separator after it) pairs covering `text` exactly."""
    result = []
    position = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        result.append((text[position : match.start()], match.group(0)))
        position = match.end()
    result.append((text[position:], ""))
    return [(p, s) for p, s in result if p or s]


def _is_structured(paragraph: str) -> bool:
    """JSON, tables, indented code, YAML-ish key lists: anything whose syntax must survive."""
    stripped = paragraph.strip()
    if not stripped:
        return True
    if stripped[0] in "{[" and stripped[-1] in "}]":
        return True
    if stripped[0] in "{[":
        try:
            json.loads(stripped)
        except ValueError:
            pass
        else:
            return True
    lines = [line for line in paragraph.splitlines() if line.strip()]
    if sum(line.lstrip().startswith("|") for line in lines) >= max(2, len(lines) // 2):
        return True
    if all(line.startswith(("    ", "\t")) for line in lines):
        return True
    return sum(_looks_like_code(line) for line in lines) > len(lines) // 2


_CODE_LINE = re.compile(
    r"[;{}]\s*$"  # C-like statement or block ends
    r"|\)\s*:\s*$"  # def f(x): / if (a):
    r"|^\s*(import|from)\s+[\w.]+(\s+import\b.*)?\s*$"  # import x / from x import y
    r"|^\s*(def|class)\s+\w+"
    r"|=>|::"
)


def _looks_like_code(line: str) -> bool:
    return bool(_CODE_LINE.search(line))


def _keep_final_question(
    pieces: list[Piece], count: Callable[[str], int], question_max_tokens: int
) -> list[Piece]:
    """The last prose paragraph stays verbatim if short, else its last sentence does."""
    for index in range(len(pieces) - 1, -1, -1):
        piece = pieces[index]
        if not piece.text.strip():
            continue
        if not piece.compress:
            return pieces  # ends in code/JSON/short instruction: already verbatim
        if count(piece.text) <= question_max_tokens:
            return [*pieces[:index], Piece(piece.text, False), *pieces[index + 1 :]]
        head, tail = _split_last_sentence(piece.text)
        replacement = [Piece(head, True), Piece(tail, False)] if head else [Piece(tail, False)]
        return [*pieces[:index], *replacement, *pieces[index + 1 :]]
    return pieces


def _split_last_sentence(text: str) -> tuple[str, str]:
    """(everything before the last sentence, the last sentence with its leading whitespace)."""
    stripped = text.rstrip()
    boundaries = [m.start() for m in _SENTENCE_END.finditer(stripped)]
    if not boundaries:
        return "", text
    cut = boundaries[-1]
    return text[:cut], text[cut:]


def _merge_verbatim(pieces: list[Piece]) -> list[Piece]:
    """Adjacent verbatim pieces as one (fewer, larger pieces; same text)."""
    merged: list[Piece] = []
    for piece in pieces:
        if not piece.text:
            continue
        if merged and not merged[-1].compress and not piece.compress:
            merged[-1] = Piece(merged[-1].text + piece.text, False)
        else:
            merged.append(piece)
    return merged
