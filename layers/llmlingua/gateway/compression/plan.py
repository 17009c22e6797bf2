"""Which parts of a chat request are compressed, and how the answer is put back together.

Only the text of messages whose role is compressible changes; every message keeps its role,
name, tool calls and non-text parts, so the provider always receives a valid request.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.compression.placeholders import Protected, protect, restore
from gateway.compression.segments import Piece, split_text


@dataclass
class _Slot:
    """One text in the request: a message's string content or one text part of it."""

    message: int
    part: int | None
    pieces: list[Piece]


@dataclass
class _Target:
    slot: int
    piece: int
    protected: Protected


@dataclass
class Plan:
    slots: list[_Slot] = field(default_factory=list)
    targets: list[_Target] = field(default_factory=list)
    original_tokens: int = 0  # every message's text
    compressible_tokens: int = 0  # the pieces sent to the engine

    def engine_texts(self) -> list[str]:
        return [target.protected.text for target in self.targets]

    def apply(
        self, messages: Sequence[dict[str, Any]], compressed: Sequence[str]
    ) -> tuple[list[dict[str, Any]], int]:
        """New messages with the compressed pieces, and how many pieces had to stay original."""
        pieces = {i: list(slot.pieces) for i, slot in enumerate(self.slots)}
        rejected = 0
        for target, text in zip(self.targets, compressed, strict=True):
            restored = restore(text, target.protected)
            if restored is None or not restored.strip():
                rejected += 1
                continue
            original = pieces[target.slot][target.piece].text
            pieces[target.slot][target.piece] = Piece(_keep_edges(original, restored), False)
        out = [dict(message) for message in messages]
        for index, slot in enumerate(self.slots):
            text = "".join(piece.text for piece in pieces[index])
            if slot.part is None:
                out[slot.message]["content"] = text
            else:
                parts = copy.copy(out[slot.message]["content"])
                parts[slot.part] = {**parts[slot.part], "text": text}
                out[slot.message]["content"] = parts
        return out, rejected


def plan_messages(
    messages: Sequence[dict[str, Any]],
    count: Callable[[str], int],
    *,
    roles: frozenset[str],
    min_segment_tokens: int,
    question_max_tokens: int,
) -> Plan:
    plan = Plan()
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    for index, message in enumerate(messages):
        for part, text in _texts(message.get("content")):
            plan.original_tokens += count(text)
            if message.get("role") not in roles:
                continue
            pieces = split_text(
                text,
                count,
                min_segment_tokens=min_segment_tokens,
                keep_final_question=index == last_user,
                question_max_tokens=question_max_tokens,
            )
            slot = len(plan.slots)
            plan.slots.append(_Slot(index, part, pieces))
            for piece_index, piece in enumerate(pieces):
                protected = protect(piece.text) if piece.compress else None
                if protected is not None:
                    plan.targets.append(_Target(slot, piece_index, protected))
                    plan.compressible_tokens += count(piece.text)
    return plan


def count_message_tokens(messages: Sequence[dict[str, Any]], count: Callable[[str], int]) -> int:
    return sum(count(text) for m in messages for _, text in _texts(m.get("content")))


def _texts(content: Any) -> list[tuple[int | None, str]]:
    if isinstance(content, str):
        return [(None, content)]
    if isinstance(content, list):
        return [
            (i, part["text"])
            for i, part in enumerate(content)
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        ]
    return []


def _keep_edges(original: str, compressed: str) -> str:
    """The compressed text with the original's leading and trailing whitespace."""
    stripped = original.strip()
    if not stripped:
        return original
    start = original.index(stripped[0])
    end = len(original.rstrip())
    return original[:start] + compressed.strip() + original[end:]
