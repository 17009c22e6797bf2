"""Guards that stop a semantic hit a bare similarity threshold would allow.

`features(text)` extracts what must agree between a cached prompt and a new one: numbers (in
order), negation, dates, languages, units (in order), question type, opposites, named entities,
quoted text, "X to Y" direction and the language the prompt is written in, plus the prompt's
content-word stems. `mismatch(query, cached, similarity)` names the first disagreement, or None.

A content word replaced by another (one on each side, not a morphological variant) is the shape
of most near misses ("sort" vs "reverse" a list), and of some paraphrases ("merge" vs "combine"):
such a pair is accepted only at the stricter `substitution_threshold`.
Only the features are stored with a cache entry, never the prompt text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from gateway.cache.lexicon import (
    DATE_WORDS,
    FUNCTION_WORDS,
    HUMAN_LANGUAGES,
    LANGUAGE_MARKERS,
    NEGATIONS,
    NUMBER_WORDS,
    OPPOSITES,
    ORDINALS,
    PROGRAMMING_LANGUAGES,
    QUESTION_CLASSES,
    UNITS,
)

DEFAULT_SUBSTITUTION_THRESHOLD = 0.92
_TOKEN = re.compile(r"[$€£¥%]|[.!?:;]+(?=\s|$)|[^\W_][\w'.+#/-]*[\w+#%]|[^\W_]", re.UNICODE)
_PUNCTUATION = frozenset(".!?:;")
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{1,200})[\"“”«»]")
_NUMBER = re.compile(r"^\d[\d,]*(\.\d+)?$")
_NUMERIC_SUFFIX = re.compile(r"^(\d[\d,]*(?:\.\d+)?)(st|nd|rd|th|k|m|bn|x|%|-\w+)?$")
_SUFFIXES = ("ingly", "edly", "ing", "ed", "ly", "ies", "es", "s")
_LANGUAGE_SETS = {code: frozenset(words.split()) for code, words in LANGUAGE_MARKERS.items()}
_DIRECTION_WORDS = frozenset({"to", "into", "in"})
_TIME_UNITS = frozenset({"s", "min", "h", "day", "week", "month", "year"})


@dataclass(frozen=True)
class Features:
    numbers: tuple[str, ...] = ()
    negated: bool = False
    dates: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    units: tuple[str, ...] = ()
    questions: tuple[str, ...] = ()
    opposites: tuple[tuple[int, int], ...] = ()
    entities: tuple[str, ...] = ()
    quoted: tuple[str, ...] = ()
    directions: tuple[tuple[str, str], ...] = ()
    written_in: str = "?"
    words: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Features:
        tuples = {
            "opposites": tuple(tuple(p) for p in data.get("opposites", ())),
            "directions": tuple(tuple(p) for p in data.get("directions", ())),
        }
        plain = {
            k: tuple(v) if isinstance(v, list) else v
            for k, v in data.items()
            if k in cls.__dataclass_fields__ and k not in tuples
        }
        return cls(**plain, **tuples)  # type: ignore[arg-type]


def stem(word: str) -> str:
    """A crude suffix stripper: enough to see 'exercising' and 'exercise' as one word."""
    if word.endswith("'s"):
        word = word[:-2]
    for suffix in _SUFFIXES:
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            word = word[: -len(suffix)] + ("y" if suffix == "ies" else "")
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


def _tokens(text: str) -> list[str]:
    text = unicodedata.normalize("NFKC", text).replace("’", "'")
    tokens = []
    for raw in _TOKEN.findall(text):
        if raw[0] in _PUNCTUATION:
            tokens.append(raw[0])
            continue
        word = raw.rstrip(".'")
        if word.lower().endswith("'s"):
            word = word[:-2]
        if word.lower().endswith("n't"):
            tokens += [word[:-3] or word, "not"]
        elif word:
            tokens.append(word.replace("'", ""))
    return tokens


def _number(token: str) -> tuple[str, str] | None:
    """(normalised number, trailing unit word or '') for '15', '15%', '5th', '7-day', 'seven'."""
    match = _NUMERIC_SUFFIX.match(token)
    if not match:
        word = NUMBER_WORDS.get(token) or ORDINALS.get(token)
        return (word, "") if word else None
    value = match.group(1).replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    suffix = match.group(2) or ""
    if suffix in ("st", "nd", "rd", "th"):
        return f"#{value}", ""
    if suffix in ("k", "m", "bn", "x"):
        return value + suffix, ""
    return value, suffix.lstrip("-")


def _written_in(lowered: list[str], text: str) -> str:
    letters = [c for c in text if c.isalpha()]
    if letters and sum(ord(c) > 0x24F for c in letters) > len(letters) / 2:
        return "non-latin:" + unicodedata.name(letters[0], "?").split()[0].lower()
    scores = {code: sum(t in words for t in lowered) for code, words in _LANGUAGE_SETS.items()}
    best = max(scores, key=lambda code: scores[code])
    if any(c in text for c in "¿¡ñ"):
        return "es"
    return best if scores[best] >= 2 and scores[best] > scores["en"] else "en"


def features(text: str) -> Features:
    tokens = _tokens(text)
    lowered = [t.lower() for t in tokens]
    numbers, units, languages, dates, words, entities = [], [], [], set(), set(), set()
    opposites = set()
    for index, (token, low) in enumerate(zip(tokens, lowered, strict=True)):
        if token in _PUNCTUATION:
            continue
        number = _number(low)
        if number is not None:
            numbers.append(number[0])
            if not number[1]:
                continue
            if number[1] in UNITS:  # "15%", "7-day": the unit glued to the number
                units.append(UNITS[number[1]])
            continue
        if low in UNITS and not (
            UNITS[low] in _TIME_UNITS and _after(lowered, index, "what which")
        ):
            units.append(UNITS[low])
        if low in HUMAN_LANGUAGES or low in PROGRAMMING_LANGUAGES:
            languages.append(low)
        if low in DATE_WORDS:
            dates.add(low)
        if low in OPPOSITES:
            opposites.add(OPPOSITES[low])
        if low in FUNCTION_WORDS or low in NEGATIONS:
            continue
        stemmed = stem(low)
        words.add(stemmed)
        if _is_entity(tokens, index):
            entities.add(stemmed)
    return Features(
        numbers=tuple(numbers),
        negated=any(t in NEGATIONS for t in lowered),
        dates=tuple(sorted(dates)),
        languages=tuple(dict.fromkeys(languages)),
        units=tuple(dict.fromkeys(units)),
        questions=tuple(sorted(_question_classes(" ".join(lowered)))),
        opposites=tuple(sorted(opposites)),
        entities=tuple(sorted(entities)),
        quoted=tuple(q.strip().lower() for q in _QUOTED.findall(text)),
        directions=tuple(_directions(lowered)),
        written_in=_written_in(lowered, text),
        words=tuple(sorted(words)),
    )


def _after(lowered: list[str], index: int, words: str) -> bool:
    return index > 0 and lowered[index - 1] in words.split()


def _is_entity(tokens: list[str], index: int) -> bool:
    """A capitalised word inside a sentence, or a word with digits or inner capitals."""
    token = tokens[index]
    if token[:1].isupper() and not _sentence_start(tokens, index):
        return True
    return any(c.isdigit() for c in token) or token[1:] != token[1:].lower()


def _sentence_start(tokens: list[str], index: int) -> bool:
    return index == 0 or tokens[index - 1] in _PUNCTUATION or tokens[index - 1] in '"“«('


def _question_classes(joined: str) -> set[str]:
    found = set()
    for phrase, kind in QUESTION_CLASSES.items():
        if re.search(rf"\b{re.escape(phrase)}\b", joined):
            found.add(kind)
    if "count" in found or "amount" in found:
        found.discard("count")
        found.discard("amount")
        found.add("quantity")
    return found


def _directions(lowered: list[str]) -> list[tuple[str, str]]:
    """(x, y) for 'x to y' / 'x into y' between two content words: conversions and the like."""
    pairs = []
    content = [
        i
        for i, w in enumerate(lowered)
        if (w not in FUNCTION_WORDS and w not in _PUNCTUATION) or w in _DIRECTION_WORDS
    ]
    for position, index in enumerate(content[1:-1], start=1):
        if lowered[index] in _DIRECTION_WORDS:
            left, right = lowered[content[position - 1]], lowered[content[position + 1]]
            if left not in _DIRECTION_WORDS and right not in _DIRECTION_WORDS:
                pairs.append((stem(UNITS.get(left, left)), stem(UNITS.get(right, right))))
    return pairs


def _related(a: str, b: str) -> bool:
    """Morphological variants: 'differ'/'differenc', 'paint'/'painter', 'dict'/'dictionary'."""
    short, long = sorted((a, b), key=len)
    return len(short) >= 4 and long.startswith(short[: max(4, len(short) - 1)])


def substitutions(query: Features, cached: Features) -> tuple[set[str], set[str]]:
    """Content words each side has that the other lacks, morphological variants removed."""
    only_query = set(query.words) - set(cached.words)
    only_cached = set(cached.words) - set(query.words)
    left = {w for w in only_query if not any(_related(w, o) for o in only_cached)}
    right = {w for w in only_cached if not any(_related(w, o) for o in only_query)}
    return left, right


def mismatch(
    query: Features,
    cached: Features,
    similarity: float,
    substitution_threshold: float = DEFAULT_SUBSTITUTION_THRESHOLD,
) -> str | None:
    """Why `cached` must not answer `query` (a short reason), or None when it may."""
    checks = (
        ("language", query.written_in != cached.written_in),
        ("number", query.numbers != cached.numbers),
        ("negation", query.negated != cached.negated),
        ("date", query.dates != cached.dates),
        ("named_language", query.languages != cached.languages),
        ("unit", query.units != cached.units),
        ("question", query.questions != cached.questions),
        ("quoted", query.quoted != cached.quoted),
        ("opposite", _opposed(query.opposites, cached.opposites)),
        ("direction", _reversed(query.directions, cached.directions)),
        ("entity", _entities_differ(query, cached)),
    )
    for reason, failed in checks:
        if failed:
            return reason
    left, right = substitutions(query, cached)
    if left and right and similarity < substitution_threshold:
        return "substitution"
    return None


def _opposed(a: tuple[tuple[int, int], ...], b: tuple[tuple[int, int], ...]) -> bool:
    sides_a: dict[int, set[int]] = {}
    sides_b: dict[int, set[int]] = {}
    for pair, side in a:
        sides_a.setdefault(pair, set()).add(side)
    for pair, side in b:
        sides_b.setdefault(pair, set()).add(side)
    return any(
        len(sides_a[p]) == 1 and len(sides_b[p]) == 1 and sides_a[p] != sides_b[p]
        for p in sides_a.keys() & sides_b.keys()
    )


def _reversed(a: tuple[tuple[str, str], ...], b: tuple[tuple[str, str], ...]) -> bool:
    return any((y, x) in b and (x, y) not in b for x, y in a if x != y)


def _entities_differ(query: Features, cached: Features) -> bool:
    words_q, words_c = set(query.words), set(cached.words)
    return any(e not in words_c for e in query.entities) or any(
        e not in words_q for e in cached.entities
    )
