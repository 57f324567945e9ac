"""The `readout` command: thin typer wrappers over importable functions."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import List, Optional

import typer
from wasabi import msg

from .errors import ReadoutError, ReadoutErrors
from .schema import LABELS

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="readout: PERSON, TITLE, SLOGAN and DOCUMENT spans in news about Chinese politics — "
    "gold data, training, evaluation and the doccano annotation loop.",
)


def user_errors(func):
    """Turn input errors into one line each and exit 1: no traceback for a user's mistake."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ReadoutErrors as errs:
            for err in errs.errors:
                msg.fail(str(err))
            msg.fail(f"{len(errs.errors)} error(s); nothing written")
        except ReadoutError as err:
            msg.fail(str(err))
        raise typer.Exit(1)

    return wrapper


@app.command()
@user_errors
def validate(paths: List[Path] = typer.Argument(..., help="Gold JSONL files or folders")):
    """Check gold JSONL against the span rules; name file:line for each problem."""
    from .gold import read_all
    from .validate import require_valid

    records = read_all(paths)
    require_valid(records)
    n_spans = sum(len(r.spans) for r in records)
    msg.good(f"{len(records)} documents, {n_spans} spans: valid")


@app.command()
@user_errors
def markup(
    paths: List[Path] = typer.Argument(..., help="Inline-tagged files (see pipeline/markup.py)"),
    output: Path = typer.Option(..., "--output", "-o", help="Gold JSONL to write"),
    force: bool = typer.Option(False, "--force", help="Replace OUTPUT if it exists"),
):
    """Convert inline-tagged documents (<PERSON>...</PERSON>) into validated gold JSONL."""
    from .errors import E
    from .gold import write_jsonl
    from .markup import read_markup
    from .validate import require_valid

    if output.exists() and not force:
        raise ReadoutError(E.R019, path=output)
    records = [r for p in paths for r in read_markup(p)]
    require_valid(records)
    write_jsonl(output, records)
    msg.good(f"wrote {len(records)} documents to {output}")


@app.command()
@user_errors
def convert(
    gold: List[Path] = typer.Argument(..., help="Gold JSONL files or folders, split by document"),
    output: Path = typer.Option(Path("corpus"), "--output", "-o", help="Folder for train/dev/test(.ood).spacy"),
    manifest: Path = typer.Option(Path("annotations/splits.json"), help="Recorded split of every doc_id"),
    ood: Optional[Path] = typer.Option(None, help="Out-of-distribution gold, written whole as ood.spacy"),
    dev: float = typer.Option(0.15, help="Share of new documents for dev"),
    test: float = typer.Option(0.15, help="Share of new documents for test"),
    seed: int = typer.Option(0, help="Seed for splitting new documents"),
):
    """Validate gold, assign new documents to splits (kept in MANIFEST), write DocBins."""
    from .convert import records_to_docbin
    from .gold import read_all
    from .split import assign_splits, read_manifest, write_manifest
    from .validate import require_valid

    records = read_all(gold)
    ood_records = read_all([ood]) if ood else []
    require_valid(records + ood_records)
    old = read_manifest(manifest)
    assignment = assign_splits(records, old, dev=dev, test=test, seed=seed)
    rows = []
    for split in ("train", "dev", "test"):
        part = [r for r in records if assignment[r.doc_id] == split]
        records_to_docbin(part, output / f"{split}.spacy")
        rows.append((split, len(part), sum(len(r.spans) for r in part)))
    if ood_records:
        records_to_docbin(ood_records, output / "ood.spacy")
        rows.append(("ood", len(ood_records), sum(len(r.spans) for r in ood_records)))
    if assignment != old:
        write_manifest(manifest, assignment)
        msg.info(f"{len(set(assignment) - set(old))} new document(s) recorded in {manifest}")
    msg.table(rows, header=("split", "docs", "spans"), divider=True)
    msg.good(f"wrote DocBins to {output}/")


@app.command()
@user_errors
def evaluate(
    model: Path = typer.Argument(..., help="Trained pipeline folder, e.g. models/cpu/model-best"),
    data: List[Path] = typer.Argument(..., help="Gold .spacy or JSONL files/folders"),
    name: Optional[str] = typer.Option(None, help="Report name (default: <model>-<data>)"),
    output: Path = typer.Option(Path("reports"), help="Reports folder"),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples"),
    examples: int = typer.Option(25, help="Errors shown in context"),
    disable: List[str] = typer.Option([], help="Pipeline components to switch off, e.g. entity_trimmer"),
):
    """Score MODEL on DATA and write reports/<name>/ (metrics.json, report.md, report.html, f1.png)."""
    from .evaluate import evaluate as run
    from .report import SCORE_HEAD, score_rows, write_report

    _check_model(model)
    name = name or f"{model.parent.name if model.name.startswith('model-') else model.name}-{data[0].stem}"
    metrics, results = run(model, data, n_boot=n_boot, disable=disable)
    out = write_report(metrics, results, output / name, title=f"readout evaluation: {name}", n_examples=examples)
    msg.table(score_rows(metrics), header=SCORE_HEAD, divider=True)
    msg.good(f"report written to {out}/report.html ({metrics['speed']['words_per_second']:,.0f} words/s)")


@app.command()
@user_errors
def compare(
    model_a: Path = typer.Argument(..., help="Baseline pipeline, e.g. models/cpu/model-best"),
    model_b: Path = typer.Argument(..., help="Challenger pipeline, e.g. models/trf/model-best"),
    data: List[Path] = typer.Argument(..., help="Gold .spacy or JSONL files/folders"),
    n_boot: int = typer.Option(1000, help="Bootstrap resamples"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Also write the comparison as JSON"),
):
    """Does MODEL_B beat MODEL_A on DATA? F1 difference per label with a paired bootstrap."""
    import json

    import spacy

    from .evaluate import compare as paired, counts, load_gold, predict
    from .gold import atomic_write_text

    for model in (model_a, model_b):
        _check_model(model)
    nlps = [spacy.load(m) for m in (model_a, model_b)]
    records = load_gold(data, nlps[0].vocab)
    a, b = (counts(predict(nlp, records)[0]) for nlp in nlps)
    result = paired(a, b, n_boot=n_boot)
    rows = [(name, f"{r['f_a']:.3f}", f"{r['f_b']:.3f}", f"{r['diff']:+.3f}",
             f"[{r['diff_ci'][0]:+.3f}, {r['diff_ci'][1]:+.3f}]", f"{r['p_not_better']:.3f}") for name, r in result.items()]
    msg.table(rows, header=("", "F1 A", "F1 B", "B − A", "95% interval", "P(B ≤ A)"), divider=True)
    if json_out:
        doc = {"model_a": str(model_a), "model_b": str(model_b), "data": [str(p) for p in data],
               "n_docs": len(records), "n_boot": n_boot, "f1": result}
        atomic_write_text(json_out, json.dumps(doc, indent=2) + "\n")
        msg.good(f"wrote {json_out}")


@app.command()
@user_errors
def annotate(
    model: Path = typer.Argument(..., help="Trained pipeline folder"),
    inputs: List[Path] = typer.Argument(None, help=".txt files (one document each) or JSONL with 'text'"),
    text: Optional[str] = typer.Option(None, "--text", "-t", help="Annotate this text instead of files"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write JSONL here (default: stdout)"),
    show: bool = typer.Option(True, help="Print a readable view to the terminal (stderr with -o -)"),
):
    """Tag PERSON/TITLE/SLOGAN/DOCUMENT spans; JSONL in doccano's format out."""
    import json
    import sys

    import spacy

    from .annotate import annotate as run, read_inputs, render_terminal
    from .errors import E
    from .gold import Record, write_jsonl

    _check_model(model)
    if not text and not inputs:
        raise ReadoutError(E.R013, path="(no --text and no input files)")
    records = [Record(text=text, spans=[], meta={})] if text else list(read_inputs(inputs))
    out = list(run(spacy.load(model), records))
    if output:
        write_jsonl(output, out)
    if show:
        # With JSONL on stdout, the readable view goes to stderr so pipes stay clean.
        stream = sys.stdout if output else sys.stderr
        for rec in out:
            print(render_terminal(rec, colour=stream.isatty()) + "\n", file=stream)
    if output:
        msg.good(f"wrote {len(out)} document(s) to {output}")
    else:
        for rec in out:
            print(json.dumps(rec.to_json(), ensure_ascii=False))


def _check_model(model: Path) -> None:
    from .errors import E

    if not (model / "config.cfg").exists():
        raise ReadoutError(E.R016, str(model), detail="not a trained pipeline (no config.cfg); train one first")


@app.command()
@user_errors
def lint(
    paths: List[Path] = typer.Argument(..., help="Gold JSONL files or folders"),
    allow: Path = typer.Option(Path("annotations/lint_allow.jsonl"), help="Allowlist of accepted hits"),
    limit: int = typer.Option(200, help="Hits printed at most (all are counted)"),
):
    """Find inconsistent labels, unlabelled repeats and mechanical guideline breaks."""
    from collections import Counter

    from .gold import read_all
    from .lint import lint as run, read_allowlist

    hits = run(read_all(paths), read_allowlist(allow))
    for hit in hits[:limit]:
        msg.warn(str(hit))
    if hits:
        msg.table(sorted(Counter(h.check for h in hits).items()), header=("check", "hits"), divider=True)
        msg.fail(f"{len(hits)} lint hit(s); fix them or add them to {allow} with a reason")
        raise typer.Exit(1)
    msg.good("no lint hits")


@app.command()
@user_errors
def stats(
    gold: Path = typer.Argument(Path("annotations/gold"), help="In-distribution gold folder"),
    ood: Optional[Path] = typer.Option(Path("annotations/ood"), help="Out-of-distribution gold"),
    manifest: Path = typer.Option(Path("annotations/splits.json"), help="Split manifest (train/dev for OOD overlap)"),
    output: Optional[Path] = typer.Option(Path("annotations/STATS.md"), help="Markdown file to write"),
):
    """Count spans, distinct strings, genres, provinces and lengths; check OOD stays unseen."""
    from .gold import atomic_write_text, read_all
    from .split import read_manifest
    from .stats import corpus_stats, overlap, to_markdown

    records = read_all([gold])
    ood_records = read_all([ood]) if ood and ood.exists() else []
    result = corpus_stats(records + ood_records)
    shared = None
    if ood_records:
        splits = read_manifest(manifest)
        shared = overlap(ood_records, [r for r in records if splits.get(r.doc_id) in ("train", "dev")])
    text = to_markdown(result, shared)
    if output:
        atomic_write_text(output, text)
    print(text)


@app.command("learning-curve")
@user_errors
def learning_curve_cmd(
    config: Path = typer.Argument(Path("configs/cpu.cfg"), help="Training config"),
    train: Path = typer.Option(Path("corpus/train.spacy"), help="Full training DocBin"),
    dev: Path = typer.Option(Path("corpus/dev.spacy"), help="Dev DocBin to score on"),
    output: Path = typer.Option(Path("reports/learning_curve"), help="Folder for curve.png and results.json"),
    fractions: List[float] = typer.Option([0.25, 0.5, 0.75, 1.0], "--fraction", help="Shares of train"),
    max_steps: Optional[int] = typer.Option(None, help="Cap each run's training steps (default: the config's)"),
):
    """Train CONFIG on growing shares of train and plot per-label dev F1 against size."""
    from .curve import learning_curve

    overrides = {"training.max_steps": max_steps} if max_steps else {}
    rows = learning_curve(config, train, dev, output, fractions, overrides)
    msg.table(
        [[r["train_docs"], f"{r['micro_f']:.3f}", *(f"{r[lb]:.3f}" for lb in LABELS)] for r in rows],
        header=["train docs", "micro F1", *LABELS], divider=True,
    )
    msg.good(f"curve written to {output}/curve.png")


# Registered last: loop_cli imports `app` from this module.
from . import loop_cli  # noqa: E402,F401

if __name__ == "__main__":
    app()
