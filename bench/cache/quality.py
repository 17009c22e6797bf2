"""Semantic-cache quality on the labelled evaluation set: paraphrase hits vs false hits.

Every `cached` prompt of bench/cache/eval_set.jsonl is an entry of one tenant/model partition;
each `query` then looks up the whole population exactly as the cache does (top-k candidates by
cosine, first one >= threshold that passes the guards). A query labelled `hit` must land on its
own pair's entry; any other hit is a false hit (a wrong answer served).

bench/cache/holdout_set.jsonl was written after the guards were designed on the eval set and
never used to tune them: its figures are the unbiased estimate.

Usage: python -m bench.cache.quality [--model-dir DIR]   -> bench/cache/results/quality.{json,md}
"""

from __future__ import annotations

import argparse
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from gateway.cache.guards import DEFAULT_SUBSTITUTION_THRESHOLD, features, mismatch
from gateway.cache.policy import DEFAULT_THRESHOLD, TOP_K
from gateway.embeddings.onnx_local import LocalOnnxEmbedder

HERE = Path(__file__).resolve().parent
EVAL_SET = HERE / "eval_set.jsonl"
# Written after the guards were frozen and run once: the honest estimate of the figures.
HOLDOUT_SET = HERE / "holdout_set.jsonl"
RESULTS = HERE / "results"
DEFAULT_MODEL = HERE.parents[1] / "models" / "all-MiniLM-L6-v2-int8"
THRESHOLDS = [0.70, 0.75, 0.78, 0.80, 0.82, 0.85, 0.88, 0.90, 0.92, 0.95]


def load_eval_set(path: Path = EVAL_SET) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


class Population:
    """The eval set embedded once; `run` replays every lookup under one setting."""

    def __init__(self, rows: list[dict[str, Any]], embedder: LocalOnnxEmbedder) -> None:
        self.rows = rows
        self.entries = list(dict.fromkeys(r["cached"] for r in rows))
        self.entry_vectors = embedder.embed_array(self.entries)
        self.query_vectors = embedder.embed_array([r["query"] for r in rows])
        self.entry_features = [features(t) for t in self.entries]
        self.query_features = [features(r["query"]) for r in rows]
        self.similarities = self.query_vectors @ self.entry_vectors.T
        self._parent: dict[str, str] = {}
        for r in rows:  # texts linked by a paraphrase label answer each other correctly
            if r["label"] == "hit":
                self._parent[self._root(r["cached"])] = self._root(r["query"])

    def _root(self, text: str) -> str:
        while self._parent.get(text, text) != text:
            text = self._parent[text]
        return text

    def correct(self, query: str, served: str) -> bool:
        return query == served or self._root(query) == self._root(served)

    def lookup(self, i: int, threshold: float, guards: bool, substitution: float) -> int | None:
        query = self.rows[i]["query"]
        if query in self.entries:  # the exact tier answers these
            return self.entries.index(query)
        row = self.similarities[i]
        for j in row.argsort()[::-1][:TOP_K]:
            similarity = float(row[j])
            if similarity < threshold:
                return None
            if (
                not guards
                or mismatch(
                    self.query_features[i], self.entry_features[j], similarity, substitution
                )
                is None
            ):
                return int(j)
        return None

    def run(
        self,
        threshold: float,
        guards: bool = True,
        substitution: float = DEFAULT_SUBSTITUTION_THRESHOLD,
    ) -> dict[str, Any]:
        hits = false_hits = positives = 0
        by_category: dict[str, Counter[str]] = defaultdict(Counter)
        wrong = []
        for i, row in enumerate(self.rows):
            found = self.lookup(i, threshold, guards, substitution)
            right = found is not None and self.correct(row["query"], self.entries[found])
            if row["label"] == "hit":
                positives += 1
                hits += right
            outcome = "miss" if found is None else ("hit" if right else "false_hit")
            if outcome == "false_hit":
                false_hits += 1
                wrong.append(
                    {
                        "query": row["query"],
                        "served": self.entries[found],
                        "category": row["category"],
                    }
                )
            by_category[row["category"]][outcome] += 1
        total = len(self.rows)
        return {
            "threshold": threshold,
            "guards": guards,
            "substitution_threshold": substitution,
            "paraphrase_hit_rate": round(hits / positives, 4),
            "false_hit_rate": round(false_hits / total, 4),
            "false_hits": false_hits,
            "queries": total,
            "by_category": {k: dict(v) for k, v in sorted(by_category.items())},
            "wrong_answers": wrong,
        }


def sweep(population: Population) -> list[dict[str, Any]]:
    runs = []
    for guards in (False, True):
        for threshold in THRESHOLDS:
            result = population.run(threshold, guards)
            result.pop("wrong_answers")
            runs.append(result)
    for substitution in (0.88, 0.90, 0.92, 0.94, 0.96, 1.01):
        result = population.run(DEFAULT_THRESHOLD, True, substitution)
        result.pop("wrong_answers")
        runs.append({**result, "sweep": "substitution_threshold"})
    return runs


def markdown(default: dict[str, Any], runs: list[dict[str, Any]], counts: Counter[str]) -> str:
    lines = [
        "# Semantic cache quality (bench/cache/quality.py)",
        "",
        f"Eval set: {sum(counts.values())} labelled pairs ({counts['hit']} paraphrases that should "
        f"hit, {counts['miss']} near misses that must not), all cached in one partition.",
        "",
        f"**Default settings** (threshold {default['threshold']}, guards on, substitution "
        f"threshold {default['substitution_threshold']}): paraphrase hit rate "
        f"**{default['paraphrase_hit_rate']:.1%}**, false-hit rate "
        f"**{default['false_hit_rate']:.1%}** ({default['false_hits']} of {default['queries']}).",
        "",
        "| guards | threshold | substitution | paraphrase hits | false hits |",
        "|---|---|---|---|---|",
    ]
    for run in runs:
        lines.append(
            f"| {'on' if run['guards'] else 'off'} | {run['threshold']} | "
            f"{run['substitution_threshold'] if run['guards'] else '-'} | "
            f"{run['paraphrase_hit_rate']:.1%} | "
            f"{run['false_hit_rate']:.1%} ({run['false_hits']}) |"
        )
    lines += [
        "",
        "Outcomes by category at the default settings:",
        "",
        "| category | hit | miss | false hit |",
        "|---|---|---|---|",
    ]
    for category, outcome in default["by_category"].items():
        lines.append(
            f"| {category} | {outcome.get('hit', 0)} | {outcome.get('miss', 0)} | "
            f"{outcome.get('false_hit', 0)} |"
        )
    if default["wrong_answers"]:
        lines += ["", "False hits at the default settings:", ""]
        lines += [
            f"- `{w['query']}` served `{w['served']}` ({w['category']})"
            for w in default["wrong_answers"]
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="semantic cache quality on the eval set")
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = load_eval_set()
    embedder = LocalOnnxEmbedder(args.model_dir)
    population = Population(rows, embedder)
    default = population.run(DEFAULT_THRESHOLD)
    runs = sweep(population)
    holdout = Population(load_eval_set(HOLDOUT_SET), embedder)
    held = holdout.run(DEFAULT_THRESHOLD)
    held_bare = holdout.run(DEFAULT_THRESHOLD, guards=False)
    held_bare.pop("wrong_answers")
    args.out.mkdir(parents=True, exist_ok=True)
    labels = Counter(r["label"] for r in rows)
    report = {
        "default": default,
        "sweep": runs,
        "labels": dict(labels),
        "holdout": {"default": held, "no_guards": held_bare},
    }
    (args.out / "quality.json").write_text(json.dumps(report, indent=2) + "\n")
    text = markdown(default, runs, labels)
    text += (
        f"\n## Held-out set ({held['queries']} pairs, written after the guards were frozen)\n\n"
        f"Default settings: paraphrase hit rate **{held['paraphrase_hit_rate']:.1%}**, false-hit "
        f"rate **{held['false_hit_rate']:.1%}** ({held['false_hits']} of {held['queries']}); "
        f"without guards: {held_bare['paraphrase_hit_rate']:.1%} paraphrase hits, "
        f"{held_bare['false_hit_rate']:.1%} false hits.\n"
    )
    (args.out / "quality.md").write_text(text)
    for name, result in (("eval set", default), ("held-out set", held)):
        print(
            f"{name}: paraphrase hits {result['paraphrase_hit_rate']:.1%}, "
            f"false hits {result['false_hit_rate']:.1%} "
            f"({result['false_hits']}/{result['queries']})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
