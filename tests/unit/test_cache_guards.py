"""The guards: what must agree between a cached prompt and a new one, beyond similarity."""

from __future__ import annotations

import pytest
from gateway.cache.guards import Features, features, mismatch


def reason(cached: str, query: str, similarity: float = 0.95) -> str | None:
    return mismatch(features(query), features(cached), similarity)


@pytest.mark.parametrize(
    ("cached", "query", "expected"),
    [
        ("What is 7 times 8?", "What is 7 times 9?", "number"),
        ("What is 7 minus 3?", "What is 3 minus 7?", "number"),
        ("Give me three tips.", "Give me five tips.", "number"),
        ("What is the 5th planet?", "What is the 6th planet?", "number"),
        ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?", "negation"),
        ("Do cats like water?", "Don't cats like water?", "negation"),
        ("What is the weather today?", "What is the weather tomorrow?", "date"),
        ('Translate "hi" to Spanish.', 'Translate "hi" to German.', "named_language"),
        ("Reverse a list in Python.", "Reverse a list in JavaScript.", "named_language"),
        ("Convert 5 km to miles.", "Convert 5 miles to km.", "unit"),
        ("Who wrote Hamlet?", "When was Hamlet written?", "question"),
        ('Translate "good luck".', 'Translate "well done".', "quoted"),
        ("What are the pros of X?", "What are the cons of X?", "opposite"),
        ("Convert a string to an integer.", "Convert an integer to a string.", "direction"),
        ("Tell me about Albert Einstein.", "Tell me about Isaac Newton.", "entity"),
        ("What is the capital of France?", "¿Cuál es la capital de Francia?", "language"),
        ("How do I sort a list?", "How do I reverse a list?", "substitution"),
    ],
)
def test_a_near_miss_names_its_reason(cached: str, query: str, expected: str) -> None:
    assert reason(cached, query, similarity=0.9) == expected


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("What is the capital of France?", "Which city is the capital of France?"),
        ("What's the capital city of Australia?", "What is the capital of Australia?"),
        ("How do I reverse a list in Python?", "What's the way to reverse a list in Python?"),
        ("What is 15% of 200?", "Calculate 15 percent of 200."),
        ("Who painted the Mona Lisa?", "Who was the painter of the Mona Lisa?"),
    ],
)
def test_paraphrases_pass(cached: str, query: str) -> None:
    assert reason(cached, query) is None


def test_a_substitution_passes_only_when_very_similar() -> None:
    cached, query = (
        "How do I merge two dictionaries in Python?",
        "How can I combine two dictionaries in Python?",
    )
    assert reason(cached, query, similarity=0.85) == "substitution"
    assert reason(cached, query, similarity=0.97) is None


def test_features_round_trip_through_json() -> None:
    original = features('Convert 5 km to miles for "Bob" before Monday, not after.')
    assert Features.from_json(original.to_json()) == original
