"""Learning curve: train one config on growing shares of train, score each on dev.

A curve still rising at 100% says more annotation would help; which label rises most says
what to annotate next.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import spacy  # noqa: E402
from spacy.cli.train import train  # noqa: E402
from spacy.tokens import DocBin  # noqa: E402

from .evaluate import counts, load_gold, predict, score  # noqa: E402
from .gold import atomic_write_text  # noqa: E402
from .schema import COLORS, LABELS  # noqa: E402


def subset(train_path: Path, fraction: float, out: Path, seed: int = 0) -> int:
    """The first `fraction` of train in a fixed shuffled order, so shares are nested."""
    nlp = spacy.blank("en")
    docs = list(DocBin().from_disk(train_path).get_docs(nlp.vocab))
    random.Random(seed).shuffle(docs)
    keep = docs[: max(1, round(fraction * len(docs)))]
    DocBin(docs=keep, store_user_data=True).to_disk(out)
    return len(keep)


def learning_curve(
    config: Path, train_path: Path, dev_path: Path, output: Path, fractions: list[float], overrides: dict | None = None
) -> list[dict]:
    output.mkdir(parents=True, exist_ok=True)
    rows = []
    for fraction in fractions:
        part = output / f"train-{int(fraction * 100)}.spacy"
        n_docs = subset(train_path, fraction, part)
        model_dir = output / f"model-{int(fraction * 100)}"
        train(config, model_dir, overrides={"paths.train": str(part), "paths.dev": str(dev_path), **(overrides or {})})
        nlp = spacy.load(model_dir / "model-best")
        results, _, _ = predict(nlp, load_gold([dev_path], nlp.vocab))
        m = score(counts(results), n_boot=200)
        rows.append(
            {"fraction": fraction, "train_docs": n_docs, "micro_f": m["micro"]["f"],
             **{lb: m["per_label"][lb]["f"] for lb in LABELS}, "ci": {lb: m["per_label"][lb]["f_ci"] for lb in LABELS}}
        )
    plot(rows, output / "curve.png")
    atomic_write_text(output / "results.json", json.dumps(rows, indent=2) + "\n")
    return rows


def plot(rows: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 3.8), dpi=110)
    x = [r["train_docs"] for r in rows]
    for lb in LABELS:
        lo = [r["ci"][lb][0] for r in rows]
        hi = [r["ci"][lb][1] for r in rows]
        ax.plot(x, [r[lb] for r in rows], marker="o", label=lb, color=COLORS[lb])
        ax.fill_between(x, lo, hi, color=COLORS[lb], alpha=0.15)
    ax.plot(x, [r["micro_f"] for r in rows], marker="s", color="#333", label="micro", linestyle="--")
    ax.set_xlabel("training documents")
    ax.set_ylabel("dev F1")
    ax.set_ylim(0, 1)
    ax.set_title("Learning curve (CPU config), 95% bootstrap bands")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
