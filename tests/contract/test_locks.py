"""Every lock file pins exactly, with hashes, and carries no known-compromised release."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.check_locks import LOCKS, problems, requirements


@pytest.mark.parametrize("lock", LOCKS, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_lock_is_exact_hashed_and_clean(lock: Path) -> None:
    assert lock.exists()
    assert requirements(lock), "lock file lists no requirements"
    assert problems(lock) == []


def test_litellm_is_the_vetted_release_everywhere() -> None:
    versions = {v for lock in LOCKS for n, _, v, _ in requirements(lock) if n == "litellm"}
    assert versions == {"1.110.2"}


def test_a_compromised_release_is_caught(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("litellm==1.82.8 \\\n    --hash=sha256:" + "0" * 64 + "\nfoo>=1\n")
    assert problems(bad) == [
        "bad.txt: litellm==1.82.8 is a known-compromised release",
        "bad.txt: foo is not pinned exactly",
        "bad.txt: foo>=1 has no hash",
    ]
