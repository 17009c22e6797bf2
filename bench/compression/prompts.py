"""Deterministic English prose of a given cl100k token count (latency depends on length only)."""

from __future__ import annotations

import random
from collections.abc import Callable

_SUBJECTS = [
    "The committee",
    "Our team",
    "The city council",
    "The vendor",
    "Each region",
    "The new policy",
    "The audit",
    "Customer support",
    "The research group",
    "Management",
]
_VERBS = [
    "reviewed",
    "approved",
    "postponed",
    "questioned",
    "summarised",
    "estimated",
    "reported",
    "discussed",
    "rejected",
    "compared",
]
_OBJECTS = [
    "the budget for the next quarter",
    "the migration plan",
    "several open incidents",
    "the draft contract",
    "the hiring targets",
    "the meeting notes from last week",
    "the revised timeline",
    "the survey results",
    "the pricing proposal",
    "the maintenance schedule",
]
_TAILS = [
    "before the deadline.",
    "after a long debate.",
    "with minor changes.",
    "in great detail.",
    "without a clear decision.",
    "for the third time.",
    "and asked for more data.",
    "despite several objections.",
    "in record time.",
    "as expected.",
]


def prose(tokens: int, count: Callable[[str], int], seed: int = 0) -> str:
    rng = random.Random(seed)  # noqa: S311 - reproducible filler text, not security
    sentences: list[str] = []
    text = ""
    while count(text) < tokens:
        sentence = " ".join(rng.choice(part) for part in (_SUBJECTS, _VERBS, _OBJECTS, _TAILS))
        sentences.append(sentence)
        if len(sentences) % 6 == 0:
            sentences.append("\n")
        text = " ".join(sentences)
    return text
