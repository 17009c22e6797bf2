"""Offline supply-chain check over every lock file: exact pins, hashes, no known-bad releases.

pip-audit needs a vulnerability database from the network; CI here has none. This check is the
offline part that always runs: every requirement is `name==version` with at least one sha256
hash, and no version on the deny list (releases known to be compromised) appears anywhere.
Run: `python scripts/check_locks.py` (exit 1 with the offending lines).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCKS = sorted(
    [p for p in (ROOT / "requirements").glob("*.txt") if not p.name.endswith("-overrides.txt")]
    + [
        ROOT / "layers/llmlingua/requirements.txt",
        ROOT / "functions/completion/requirements.txt",
        ROOT / "functions/ml/requirements.txt",
    ]
)
# Releases that were published compromised. litellm 1.82.7 and 1.82.8 (March 2026) carried a
# credential-stealing payload.
DENY = {("litellm", "1.82.7"), ("litellm", "1.82.8")}
_REQUIREMENT = re.compile(r"^([A-Za-z0-9_.\-\[\],]+)\s*(==|>=|<=|~=|>|<|!=|===)?\s*([^\s\\;]*)")


def requirements(lock: Path) -> list[tuple[str, str, str, bool]]:
    """(name, operator, version, has_hash) for each requirement of a pip/uv lock file."""
    entries: list[tuple[str, str, str, bool]] = []
    for block in re.split(r"\n(?=\S)", lock.read_text()):
        first = block.strip().splitlines()[0] if block.strip() else ""
        if not first or first.startswith(("#", "-")):
            continue
        match = _REQUIREMENT.match(first)
        if match:
            name, operator, version = match.groups()
            entries.append((name.lower(), operator or "", version, "--hash=sha256:" in block))
    return entries


def problems(lock: Path) -> list[str]:
    found = []
    for name, operator, version, has_hash in requirements(lock):
        base = name.split("[")[0]
        if operator != "==":
            found.append(f"{lock.name}: {name} is not pinned exactly")
        if not has_hash:
            found.append(f"{lock.name}: {name}{operator}{version} has no hash")
        if (base, version) in DENY:
            found.append(f"{lock.name}: {name}=={version} is a known-compromised release")
    return found


def main() -> int:
    issues = [issue for lock in LOCKS if lock.exists() for issue in problems(lock)]
    print("\n".join(issues) or f"{len(LOCKS)} lock files: exact pins, hashes, no denied releases")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.exit(main())
