"""Does putting case features back help the uncased transformer? (not a test)

Trains configs/trf.cfg twice at the same step budget — as committed
(readout.CasedTransformerTok2Vec.v1) and with the plain TransformerListener — and scores both
on dev per label. Writes bench/CASE_ABLATION.md.

    HF_HUB_OFFLINE=1 .venv/bin/python bench/case_ablation.py --max-steps 150
"""

from pathlib import Path
from tempfile import TemporaryDirectory

import spacy
import typer
from spacy.cli.train import train

from pipeline.evaluate import counts, load_gold, predict, score
from pipeline.schema import LABELS

ROOT = Path(__file__).resolve().parents[1]


def uncased(config: spacy.Config) -> spacy.Config:
    config = config.copy()
    config["components"]["ner"]["model"]["tok2vec"] = config["components"]["ner"]["model"]["tok2vec"]["transformer"]
    return config


def main(
    max_steps: int = typer.Option(150, help="Training steps for each variant"),
    train_path: Path = typer.Option(ROOT / "corpus/train.spacy"),
    dev_path: Path = typer.Option(ROOT / "corpus/dev.spacy"),
    schedule_steps: int = typer.Option(400, help="Length of the warm-up + linear decay schedule (warm-up 10%); "
                                       "fixed apart from --max-steps so that a short run is the start of a longer one"),
    gpu_id: int = typer.Option(-1, help="GPU to train on (-1: CPU)"),
    output: Path = typer.Option(ROOT / "bench/CASE_ABLATION.md"),
):
    base = spacy.util.load_config(ROOT / "configs/trf.cfg")
    overrides = {
        "paths.train": str(train_path), "paths.dev": str(dev_path),
        "training.max_steps": max_steps, "training.eval_frequency": max(1, max_steps // 3),
        "training.optimizer.learn_rate.total_steps": schedule_steps,
        "training.optimizer.learn_rate.warmup_steps": schedule_steps // 10,
    }
    rows = []
    with TemporaryDirectory() as tmp:
        for name, config in [("with case features (committed)", base), ("transformer only", uncased(base))]:
            cfg_path = Path(tmp) / f"{len(rows)}.cfg"
            config.to_disk(cfg_path)
            out = Path(tmp) / f"model{len(rows)}"
            train(cfg_path, out, use_gpu=gpu_id, overrides=overrides)
            nlp = spacy.load(out / "model-best")
            results, _, _ = predict(nlp, load_gold([dev_path], nlp.vocab))
            m = score(counts(results), n_boot=500)
            rows.append((name, m))
    lines = [
        "# Case features on the uncased transformer", "",
        f"Written by `bench/case_ablation.py --max-steps {max_steps}`: configs/trf.cfg trained twice for "
        f"{max_steps} steps with the same seed and schedule (that of a {schedule_steps}-step run), scored on dev (strict span F1, 95% bootstrap "
        "interval over documents).", "",
        "| variant | " + " | ".join(LABELS) + " | micro |", "|---" * (len(LABELS) + 2) + "|",
    ]
    for name, m in rows:
        cells = [f"{m['per_label'][lb]['f']:.3f}" for lb in LABELS]
        lo, hi = m["micro"]["f_ci"]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {m['micro']['f']:.3f} [{lo:.3f}–{hi:.3f}] |")
    output.write_text("\n".join(lines) + "\n", encoding="utf8")
    print("\n".join(lines))


if __name__ == "__main__":
    typer.run(main)
