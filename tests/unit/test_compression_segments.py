"""What is compressed and what stays verbatim, one text at a time (no engine)."""

from __future__ import annotations

import pytest
from gateway.compression.placeholders import PLACEHOLDER, protect, restore, tidy
from gateway.compression.segments import split_text


def words(text: str) -> int:
    return len(text.split())


PROSE = " ".join(["The committee reviewed the budget for the next quarter in detail."] * 8)


def split(text: str, last: bool = False) -> list[tuple[bool, str]]:
    pieces = split_text(text, words, min_segment_tokens=20, keep_final_question=last)
    assert "".join(p.text for p in pieces) == text  # pieces always cover the text exactly
    return [(p.compress, p.text) for p in pieces]


def test_long_prose_paragraphs_are_compressible_short_ones_are_not() -> None:
    text = f"Summary\n\n{PROSE}\n\nThanks."
    assert split(text) == [(False, "Summary\n\n"), (True, PROSE), (False, "\n\nThanks.")]


@pytest.mark.parametrize(
    "block",
    [
        "```python\ndef total(xs):\n    return sum(xs)\n```",
        '{"invoice": 42, "lines": [{"sku": "A-1", "qty": 3}]}',
        "| name | qty |\n|---|---|\n| apples | 3 |\n| pears | 4 |",
        "    for x in range(10):\n        print(x)",
    ],
    ids=["code-fence", "json", "table", "indented-code"],
)
def test_code_json_and_tables_stay_verbatim(block: str) -> None:
    long_block = "\n".join([block] * 6) if block.startswith("    ") else block
    text = f"{PROSE}\n\n{long_block}\n\n{PROSE}"
    verbatim = [t for compress, t in split(text) if not compress]
    assert any(long_block in t for t in verbatim)


def test_code_fence_with_blank_lines_inside_is_one_verbatim_block() -> None:
    fence = "```\nline one\n\nline two after a blank line\n```"
    text = f"{PROSE}\n\n{fence}\n\n{PROSE}"
    assert any(fence in t for compress, t in split(text) if not compress)


def test_final_short_question_of_the_last_user_message_is_kept() -> None:
    question = "Based on the notes above, what did the committee decide about the budget?"
    text = f"{PROSE}\n\n{PROSE}\n\n{question}"
    pieces = split(text, last=True)
    assert pieces[-1] == (False, "\n\n" + question)
    assert [c for c, _ in pieces].count(True) == 2


def test_long_single_paragraph_keeps_its_last_sentence() -> None:
    question = "What did the committee decide?"
    text = PROSE + " " + question
    pieces = split_text(
        text, words, min_segment_tokens=20, keep_final_question=True, question_max_tokens=10
    )
    assert pieces[-1].compress is False
    assert pieces[-1].text.strip() == question
    assert pieces[0].compress is True


def test_numbers_urls_and_inline_code_are_protected_and_restored() -> None:
    text = "Revenue was $4.2M in Q3 2024 (see https://x.test/r?id=7), per `calc(x)` today."
    protected = protect(text)
    assert protected is not None
    assert protected.originals == ("$4.2M", "Q3", "2024", "https://x.test/r?id=7),", "`calc(x)`")
    engine_output = " ".join(w for w in protected.text.split() if w in (PLACEHOLDER, "Revenue"))
    restored = restore(engine_output, protected)
    assert restored == "Revenue $4.2M Q3 2024 https://x.test/r?id=7), `calc(x)`"


def test_a_missing_placeholder_rejects_the_compressed_text() -> None:
    protected = protect("Order 66 shipped on 2024-05-01.")
    assert protected is not None
    assert restore(f"Order {PLACEHOLDER} shipped", protected) is None


def test_text_already_containing_the_placeholder_is_not_compressed() -> None:
    assert protect(f"literal {PLACEHOLDER} in user text") is None


def test_tidy_removes_word_joining_artefacts() -> None:
    assert tidy("first line \n second , third .") == "first line\nsecond, third."


def test_hard_wrapped_prose_is_not_mistaken_for_code() -> None:
    wrapped = "\n".join(
        [
            "The committee met again on Tuesday and waited",
            "for the auditors to arrive, then moved on",
            "from the budget to the hiring plan, while",
            "if anything the mood had improved a lot.",
        ]
        * 3
    )
    assert split(wrapped) == [(True, wrapped)]


def test_unfenced_code_stays_verbatim() -> None:
    code = "\n".join(
        [
            "import os",
            "from pathlib import Path",
            "def load(path):",
            "    return Path(path)",
            "class Loader:",
            "    size = compute(a, b);",
        ]
        * 3
    )
    assert split(code) == [(False, code)]
