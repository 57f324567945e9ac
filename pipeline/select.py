"""Choose what to annotate next: uncertain documents, not too alike; and a simulation that
checks whether that beats picking at random.

Ranking: each candidate's uncertainty (`confidence.uncertainty`: expected entity errors per
100 tokens under the NER's beam) is scaled to [0, 1], then documents are picked greedily by
uncertainty minus `diversity` times their highest TF-IDF cosine similarity to the documents
already picked (maximal marginal relevance). Without the penalty a batch fills up with
near-copies of one confusing readout, and annotating the second copy teaches little.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import spacy
from sklearn.feature_extraction.text import TfidfVectorizer
from spacy.language import Language
from spacy.training import Example
from spacy.util import fix_random_seed, minibatch
from thinc.api import Adam

from .confidence import DEFAULT_BEAM_WIDTH, beam_entity_probs, uncertainty
from .convert import record_to_doc
from .doccano_sync import stable_doc_id
from .errors import E, ReadoutError
from .gold import Record, atomic_write_text
from .schema import LABELS

DEFAULT_DIVERSITY = 0.5


@dataclass
class Candidate:
    doc_id: str
    uncertainty: float
    similarity: float  # highest cosine similarity to a document picked before it
    record: Record = field(repr=False)


def diverse_top(texts: Sequence[str], scores: Sequence[float], n: int, diversity: float) -> list[tuple[int, float]]:
    """Indices of `n` texts picked by maximal marginal relevance, each with its similarity
    to the closest earlier pick. Similarities are computed one pick at a time, so memory
    stays linear in the number of candidates."""
    if not texts:
        return []
    tfidf = TfidfVectorizer(sublinear_tf=True).fit_transform(texts)  # rows are L2-normalised
    value = np.asarray(scores, dtype=float)
    top = value.max()
    value = value / top if top > 0 else value
    closest = np.zeros(len(texts))
    picked: list[tuple[int, float]] = []
    available = np.ones(len(texts), dtype=bool)
    for _ in range(min(n, len(texts))):
        gain = np.where(available, value - diversity * closest, -np.inf)
        i = int(np.argmax(gain))
        picked.append((i, float(closest[i])))
        available[i] = False
        closest = np.maximum(closest, (tfidf @ tfidf[i].T).toarray().ravel())
    return picked


def rank(
    nlp: Language,
    records: Sequence[Record],
    n: int,
    diversity: float = DEFAULT_DIVERSITY,
    beam_width: int = DEFAULT_BEAM_WIDTH,
    exclude: set[str] = frozenset(),
) -> list[Candidate]:
    """The `n` documents most worth annotating next, best first; ids in `exclude` (already
    annotated) are never proposed."""
    pool = [r for r in records if stable_doc_id(r) not in exclude]
    scored = beam_entity_probs(nlp, [r.text for r in pool], beam_width)
    scores = [uncertainty(doc, probs) for doc, probs in scored]
    return [
        Candidate(stable_doc_id(pool[i]), scores[i], sim, pool[i])
        for i, sim in diverse_top([r.text for r in pool], scores, n, diversity)
    ]


# ---------------------------------------------------------------- simulation


@dataclass
class SimulationConfig:
    rounds: int = 5
    step: int = 20  # documents "annotated" per round; also the size of the random seed set
    test_size: int = 60
    seeds: tuple[int, ...] = (0,)
    # Document updates per training round (warm-started from the previous round). Uncertainty is only
    # as good as the model: with 240, the model after the 20-document seed set scored F1 0.49 and its
    # picks were no better than random.
    updates: int = 480
    learn_rate: float = 0.005
    pool_sample: int = 120  # candidates scored per round; the beam is the slow part
    beam_width: int = DEFAULT_BEAM_WIDTH
    diversity: float = DEFAULT_DIVERSITY


def _blank_ner() -> Language:
    """A small CNN NER that learns from a few dozen documents in seconds on a CPU; no labels
    yet, so that `from_bytes` can give it a trained one's."""
    nlp = spacy.blank("en")
    nlp.add_pipe(
        "ner",
        config={
            "model": {
                "@architectures": "spacy.TransitionBasedParser.v2",
                "state_type": "ner",
                "extra_state_tokens": False,
                "hidden_width": 64,
                "maxout_pieces": 2,
                "use_upper": True,
                "nO": None,
                "tok2vec": {
                    "@architectures": "spacy.HashEmbedCNN.v2",
                    "pretrained_vectors": None,
                    "width": 96,
                    "depth": 2,
                    "embed_size": 2000,
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "subword_features": True,
                },
            }
        },
    )
    return nlp


def new_ner(records: Sequence[Record]) -> Language:
    """An initialised small NER that knows all schema labels, even those `records` lack."""
    nlp = _blank_ner()
    ner = nlp.get_pipe("ner")
    for label in LABELS:
        ner.add_label(label)
    nlp.initialize(lambda: _examples(nlp, records))
    return nlp


def _examples(nlp: Language, records: Sequence[Record]) -> list[Example]:
    return [Example(nlp.make_doc(r.text), record_to_doc(r)) for r in records]


def train_more(nlp: Language, records: Sequence[Record], updates: int, seed: int, learn_rate: float) -> Language:
    """`updates` document updates over shuffled passes through `records`, on an initialised
    pipeline, in place.

    Warm-starting from the previous round keeps every round equally cheap; both strategies
    get the same number of updates, so neither gains from extra training."""
    examples = _examples(nlp, records)
    optimizer = Adam(learn_rate)
    rng = random.Random(seed)
    done = 0
    while done < updates:
        rng.shuffle(examples)
        for batch in minibatch(examples, 4):
            nlp.update(batch, sgd=optimizer, drop=0.1)
            done += len(batch)
            if done >= updates:
                break
    return nlp


def evaluate_f1(nlp: Language, records: Sequence[Record]) -> float:
    return float(nlp.evaluate(_examples(nlp, records))["ents_f"])


@dataclass
class CurvePoint:
    n_annotated: int
    f1: float
    seconds: float  # training + evaluation (+ selection, for uncertainty) of this round
    n_target: int = 0  # of the annotated documents, how many come from the target domain


@dataclass
class SimulationResult:
    config: SimulationConfig
    n_gold: int
    n_test: int
    n_pool: int
    curves: dict[str, dict[int, list[CurvePoint]]]  # strategy → seed → points
    n_target_pool: int = 0  # target-domain documents in the pool

    def summary(self) -> dict[str, list[dict]]:
        """Per strategy, per number of annotated documents: mean, min and max F1 over seeds."""
        out: dict[str, list[dict]] = {}
        for strategy, by_seed in self.curves.items():
            rows = []
            for points in zip(*by_seed.values()):
                f1s = [p.f1 for p in points]
                rows.append(
                    {
                        "n_annotated": points[0].n_annotated,
                        "f1_mean": float(np.mean(f1s)),
                        "f1_min": min(f1s),
                        "f1_max": max(f1s),
                        "seconds_mean": float(np.mean([p.seconds for p in points])),
                        "n_target_mean": float(np.mean([p.n_target for p in points])),
                    }
                )
            out[strategy] = rows
        return out


def simulate(
    records: Sequence[Record], config: SimulationConfig, log=print, target: Sequence[Record] = ()
) -> SimulationResult:
    """Hide the labels of a pool of gold documents, then for each strategy repeat: train,
    evaluate on a fixed held-out set, pick `step` more documents (by uncertainty with
    diversity, or at random), reveal their gold labels. Both strategies share the test set,
    the random seed set and the training budget of each seed.

    With `target` documents (a domain the model must learn, e.g. provinces it has not seen),
    the test set is drawn from them and the rest of them join the pool, while the seed set
    comes from `records` alone: does selection find the few target-like documents in the pool
    that a random pick mostly misses?"""
    records, target = list(records), list(target)
    if target:
        needed, have = config.step * (config.rounds + 1), len(records)
        if len(target) <= config.test_size or have < needed:
            detail = (f"simulation needs more than {config.test_size} target documents (found {len(target)}) "
                      f"and {needed} others ({config.rounds + 1} steps, found {have})")
            raise ReadoutError(E.R016, detail=detail)
    elif len(records) < (needed := config.test_size + config.step * (config.rounds + 1)):
        detail = f"simulation needs {needed} gold documents (test + {config.rounds + 1} steps), found {len(records)}"
        raise ReadoutError(E.R016, detail=detail)
    target_ids = {id(r) for r in target}
    curves: dict[str, dict[int, list[CurvePoint]]] = {"uncertainty": {}, "random": {}}
    n_test = config.test_size
    for seed in config.seeds:
        rng = random.Random(seed)
        order = records[:]
        rng.shuffle(order)
        if target:
            shuffled = target[:]
            rng.shuffle(shuffled)
            test, rest = shuffled[:n_test], order
            seed_set, pool0 = rest[: config.step], rest[config.step :] + shuffled[n_test:]
        else:
            test, rest = order[:n_test], order[n_test:]
            seed_set, pool0 = rest[: config.step], rest[config.step :]
        fix_random_seed(seed)
        start = time.monotonic()
        first = new_ner(seed_set)
        train_more(first, seed_set, config.updates, seed, config.learn_rate)
        start_point = CurvePoint(len(seed_set), evaluate_f1(first, test), time.monotonic() - start)
        log(f"seed {seed}: {len(seed_set)} annotated, F1 {start_point.f1:.3f} (both strategies)")
        state = first.to_bytes()
        for strategy in curves:
            nlp = _blank_ner().from_bytes(state)
            labelled, pool = list(seed_set), list(pool0)
            points = [start_point]
            pick_rng = random.Random(seed + 1)
            for r in range(config.rounds):
                start = time.monotonic()
                if strategy == "random":
                    chosen = pick_rng.sample(range(len(pool)), config.step)
                else:
                    sample = pick_rng.sample(range(len(pool)), min(config.pool_sample, len(pool)))
                    scored = beam_entity_probs(nlp, [pool[i].text for i in sample], config.beam_width)
                    scores = [uncertainty(doc, probs) for doc, probs in scored]
                    top = diverse_top([pool[i].text for i in sample], scores, config.step, config.diversity)
                    chosen = [sample[i] for i, _ in top]
                taken = set(chosen)
                labelled += [pool[i] for i in chosen]
                pool = [p for i, p in enumerate(pool) if i not in taken]
                fix_random_seed(seed + r + 1)
                train_more(nlp, labelled, config.updates, seed + r + 1, config.learn_rate)
                f1 = evaluate_f1(nlp, test)
                n_target = sum(id(r) in target_ids for r in labelled)
                points.append(CurvePoint(len(labelled), f1, time.monotonic() - start, n_target))
                log(f"seed {seed} {strategy}: {len(labelled)} annotated ({n_target} target), F1 {f1:.3f} "
                    f"({points[-1].seconds:.0f} s)")
            curves[strategy][seed] = points
    n_gold = len(records) + len(target)
    return SimulationResult(config, n_gold, n_test, n_gold - n_test, curves, max(0, len(target) - n_test))


def report_rows(result: SimulationResult) -> list[list[str]]:
    """Per budget: each strategy's mean F1 (min–max over seeds), the mean difference and in
    how many seeds uncertainty beat random on that seed's own held-out set."""
    summary = result.summary()
    unc, rnd = result.curves["uncertainty"], result.curves["random"]
    rows = []
    for k, (u, r) in enumerate(zip(summary["uncertainty"], summary["random"])):
        won = sum(unc[seed][k].f1 > rnd[seed][k].f1 for seed in unc)
        row = [u["n_annotated"], f"{u['f1_mean']:.3f} ({u['f1_min']:.3f}–{u['f1_max']:.3f})",
               f"{r['f1_mean']:.3f} ({r['f1_min']:.3f}–{r['f1_max']:.3f})",
               f"{u['f1_mean'] - r['f1_mean']:+.3f}", "—" if k == 0 else f"{won} of {len(unc)}"]
        if result.n_target_pool:
            row.append(f"{u['n_target_mean']:.1f} / {r['n_target_mean']:.1f}")
        rows.append(row)
    return rows


def overall(result: SimulationResult) -> dict:
    """Uncertainty minus random F1 averaged over the rounds after the shared seed set, per seed
    (the gap between the two curves), and a one-sided sign test over seeds: if selection did
    not help, each seed would come out ahead or behind with even odds."""
    from scipy.stats import binomtest

    unc, rnd = result.curves["uncertainty"], result.curves["random"]
    gaps = [float(np.mean([u.f1 - r.f1 for u, r in zip(unc[seed][1:], rnd[seed][1:])])) for seed in unc]
    won = sum(g > 0 for g in gaps)
    return {"gap_per_seed": gaps, "gap_mean": float(np.mean(gaps)), "seeds_won": won,
            "sign_test_p": float(binomtest(won, len(gaps), 0.5, alternative="greater").pvalue)}


def overall_line(o: dict) -> str:
    """One sentence from `overall`'s result."""
    return (f"Averaged over the rounds after the seed set, uncertainty selection is ahead of random by "
            f"{o['gap_mean']:+.3f} F1, and ahead in {o['seeds_won']} of {len(o['gap_per_seed'])} seeds "
            f"(one-sided sign test p = {o['sign_test_p']:.3g}).")


def write_report(result: SimulationResult, out_dir: Path) -> tuple[Path, Path, Path]:
    """results.json (config, per-seed curves, summary), curve.png (F1 vs documents annotated)
    and report.md (the table and the plot)."""
    from .report import md_table

    import matplotlib

    matplotlib.use("Agg")  # no display on servers and CI
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    summary, summary_overall = result.summary(), overall(result)
    data = {
        "config": asdict(result.config),
        "n_gold": result.n_gold,
        "n_test": result.n_test,
        "n_pool": result.n_pool,
        "n_target_pool": result.n_target_pool,
        "summary": summary,
        "overall": summary_overall,
        "curves": {
            s: {str(seed): [asdict(p) for p in pts] for seed, pts in by_seed.items()}
            for s, by_seed in result.curves.items()
        },
    }
    results_path = out_dir / "results.json"
    atomic_write_text(results_path, json.dumps(data, indent=2) + "\n")
    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy, rows in summary.items():
        xs = [r["n_annotated"] for r in rows]
        ax.plot(xs, [r["f1_mean"] for r in rows], marker="o", label=strategy)
        if len(result.config.seeds) > 1:
            ax.fill_between(xs, [r["f1_min"] for r in rows], [r["f1_max"] for r in rows], alpha=0.2)
    ax.set_xlabel("documents annotated")
    held_out = "held-out target" if result.n_target_pool else "held-out"
    ax.set_ylabel(f"entity F1 on {result.n_test} {held_out} documents")
    ax.set_title(f"Active learning vs random ({len(result.config.seeds)} seed(s))")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    curve_path = out_dir / "curve.png"
    tmp = out_dir / ".curve.png.tmp"
    fig.savefig(tmp, dpi=120, format="png")
    plt.close(fig)
    tmp.replace(curve_path)
    c = result.config
    head = ["annotated", "uncertainty + diversity", "random", "difference", "seeds won"]
    if result.n_target_pool:
        head.append(f"target documents picked (of {result.n_target_pool})")
    report = "\n".join([
        "# Active learning vs random", "",
        f"{len(c.seeds)} seed(s); {result.n_test} held-out documents, a pool of {result.n_pool}; a seed set of "
        f"{c.step} random documents, then {c.rounds} rounds of {c.step} picked by uncertainty (among "
        f"{c.pool_sample} random candidates, beam width {c.beam_width}, diversity {c.diversity}) or at random; "
        f"{c.updates} document updates per round. Entity F1 mean over seeds (min–max).", "",
        md_table(head, report_rows(result)), "", overall_line(summary_overall), "",
        "![F1 against documents annotated](curve.png)", "",
    ])
    report_path = out_dir / "report.md"
    atomic_write_text(report_path, report)
    return results_path, curve_path, report_path
