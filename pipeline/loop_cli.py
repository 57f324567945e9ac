"""Annotation-loop commands (doccano, select, agreement, adjudicate), registered on `readout`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import List, Optional

import typer
from typer.core import TyperGroup
from wasabi import msg

from .cli import _check_model, app, user_errors

doccano_app = typer.Typer(no_args_is_help=True, help="Work with a doccano server.")
app.add_typer(doccano_app, name="doccano")

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_GOLD = Path("annotations/gold")


def _url_option():
    return typer.Option(DEFAULT_URL, "--url", envvar="DOCCANO_URL", help="doccano server")


def _home_option():
    return typer.Option(
        None, "--home", help="doccano data folder [default: $DOCCANO_HOME or .doccano]", show_default=False
    )


# Shared by `serve` and `start`, which differ only in running in the foreground or not.
_PORT = typer.Option(8000, "--port", help="Loopback port (0: any free one)")
_VENV = typer.Option(Path(".venv-doccano"), "--venv", help="doccano's own virtualenv (installed if missing)")
_WORKERS = typer.Option(2, "--workers", help="gunicorn workers")


def _connect(url: str):
    from .doccano_server import admin_credentials
    from .doccano_sync import connect

    return connect(url, *admin_credentials())


# ---------------------------------------------------------------- server


@doccano_app.command()
@user_errors
def serve(
    port: int = _PORT,
    home: Optional[Path] = _home_option(),
    venv: Path = _VENV,
    workers: int = _WORKERS,
):
    """Run doccano on 127.0.0.1 in the foreground until Ctrl-C (admin from DOCCANO_ADMIN_USER/PASSWORD)."""
    from .doccano_server import serve as serve_forever
    from .doccano_server import start

    msg.info("starting doccano (installs it into .venv-doccano on first use: about a minute)")
    server = start(home=home, port=port, venv=venv, workers=workers)
    msg.good(f"doccano at {server.url} (data in {server.home}); Ctrl-C stops it")
    serve_forever(server)
    msg.good("doccano stopped")


@doccano_app.command("start")
@user_errors
def start_cmd(
    port: int = _PORT,
    home: Optional[Path] = _home_option(),
    venv: Path = _VENV,
    workers: int = _WORKERS,
):
    """Start doccano in the background; `readout doccano stop` stops it."""
    from .doccano_server import start

    server = start(home=home, port=port, venv=venv, workers=workers)
    msg.good(f"doccano at {server.url} (data in {server.home})")
    msg.text(f"logs: {', '.join(server.logs.values())}")


@doccano_app.command("stop")
@user_errors
def stop_cmd(home: Optional[Path] = _home_option()):
    """Stop the doccano started from this home: web server, worker and their children."""
    from .doccano_server import stop

    server = stop(home)
    if server is None:
        msg.info("no doccano server is running from this home")
    else:
        msg.good(f"stopped doccano at {server.url}")


# ---------------------------------------------------------------- push / pull


def _prelabeler(model: Optional[Path], gold: Path, beam_width: int):
    """The model's spans when there is a model, else rules from the gold strings, else none."""
    import spacy

    from .confidence import ModelPrelabeler, RulesPrelabeler
    from .gold import read_all

    if model is not None and (model / "config.cfg").exists():
        return ModelPrelabeler(spacy.load(model), beam_width, name=f"model {model}")
    if model is not None:
        msg.warn(f"no model at {model}; pre-annotating with rules from {gold}")
    if gold.exists() and (records := read_all([gold])) and any(r.spans for r in records):
        return RulesPrelabeler.from_records(records, name=f"rules from {gold}")
    msg.warn(f"no gold data in {gold} to build rules from; pushing without pre-annotations")
    return None


def _push_records(records, project: str, url: str, model, gold: Path, collaborative: bool, guidelines: Path,
                 batch_size: int, beam_width: int):
    from .doccano_sync import push

    client = _connect(url)
    prelabeler = _prelabeler(model, gold, beam_width)
    guideline = guidelines.read_text(encoding="utf8") if guidelines.exists() else ""
    report = push(client, project, records, prelabeler, collaborative, guideline, batch_size)
    if not report.collaborative:
        msg.warn("project is not collaborative: each annotator sees only their own spans, so none were pushed")
    msg.good(
        f"{project} (id {report.project_id}{', new' if report.created_project else ''}): "
        f"{len(report.uploaded)} documents added with {report.spans} spans ({report.prelabel}), "
        f"{len(report.skipped)} already there"
    )


@doccano_app.command("push")
@user_errors
def push_cmd(
    paths: List[Path] = typer.Argument(..., help=".txt files, JSONL files, or folders of them"),
    project: str = typer.Option(..., "--project", help="doccano project (created if missing)"),
    model: Optional[Path] = typer.Option(
        None, "--model", help="Trained pipeline for pre-annotations, e.g. models/cpu/model-best"
    ),
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", help="Gold data the rules are built from when there is no model"),
    collaborative: bool = typer.Option(
        True, "--collaborative/--independent",
        help="New project: annotators share one set of spans (pre-annotations visible), or each has their own",
    ),
    guidelines: Path = typer.Option(Path("annotations/GUIDELINES.md"), "--guidelines", help="Shown in doccano"),
    url: str = _url_option(),
    batch_size: int = typer.Option(32, "--batch-size", help="Documents pre-annotated at a time"),
    beam_width: int = typer.Option(16, "--beam-width", help="Beam for the confidence of model spans"),
):
    """Upload documents with pre-annotations; documents already in the project are skipped."""
    from .doccano_sync import read_documents

    _push_records(read_documents(paths), project, url, model, gold, collaborative, guidelines, batch_size, beam_width)


@doccano_app.command("pull")
@user_errors
def pull_cmd(
    project: str = typer.Option(..., "--project", help="doccano project"),
    all_examples: bool = typer.Option(False, "--all", help="Every example, not only confirmed ones"),
    accept: bool = typer.Option(False, "--accept", help="Replace gold documents that doccano has changed"),
    out: Path = typer.Option(Path("annotations/pulled"), "--out", help="Snapshot folder: OUT/PROJECT/ANNOTATOR.jsonl"),
    gold: Path = typer.Option(DEFAULT_GOLD, "--gold", help="Gold folder checked for existing documents"),
    into: Path = typer.Option(DEFAULT_GOLD / "doccano.jsonl", "--into", help="Gold file new documents are added to"),
    url: str = _url_option(),
    timeout: float = typer.Option(300.0, "--timeout", help="Seconds to wait for doccano's export"),
):
    """Export annotations, validate them, and merge them into gold without overwriting silently."""
    from .doccano_sync import merge_into_gold, pull, reconcile, write_pulled
    from .errors import E, ReadoutError

    pulled = pull(_connect(url), project, confirmed_only=not all_examples, timeout=timeout)
    for path in write_pulled(pulled, out):
        msg.text(f"snapshot: {path}")
    records, disagreements = reconcile(pulled)
    report = merge_into_gold(records, gold, into, accept=accept)
    msg.table(
        [
            ("added", len(report.added), str(report.into)),
            ("unchanged", len(report.unchanged), ""),
            ("accepted", len(report.accepted), "gold replaced by doccano's version"),
            ("conflicts", len(report.conflicts), "differ from gold: not merged"),
            ("annotators disagree", len(disagreements), "not merged: run `readout adjudicate`"),
        ],
        header=("documents", "n", ""),
        divider=True,
    )
    for c in report.conflicts:
        diff = f"only in gold {c.only_gold}; only in doccano {c.only_pulled}" if c.same_text else "the texts differ"
        msg.warn(f"{c.doc_id} ({c.where}): {diff}")
    for c in disagreements:
        diff = f"{c.only_gold} vs {c.only_pulled}" if c.same_text else "the texts differ"
        msg.warn(f"{c.doc_id} ({c.where}): {diff}")
    if report.conflicts:
        raise ReadoutError(
            E.R018, project,
            detail=f"{len(report.conflicts)} document(s) differ from gold; pass --accept to take doccano's version",
        )


# ---------------------------------------------------------------- select


class _RankByDefault(TyperGroup):
    """`readout select PATHS ...` ranks; `readout select simulate ...` runs the simulation."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] != "--help":
            args = ["rank", *args]
        return super().parse_args(ctx, args)


select_app = typer.Typer(
    cls=_RankByDefault, no_args_is_help=True,
    help="Pick documents to annotate next (`select PATHS`), or simulate the loop (`select simulate`).",
)
app.add_typer(select_app, name="select")


@select_app.command("rank")
@user_errors
def rank_cmd(
    paths: List[Path] = typer.Argument(..., help="Unannotated documents: .txt, JSONL, or folders"),
    model: Path = typer.Option(..., "--model", help="Trained pipeline, e.g. models/cpu/model-best"),
    n: int = typer.Option(20, "--n", help="How many to pick"),
    diversity: float = typer.Option(0.5, "--diversity", help="Penalty per unit of similarity to earlier picks"),
    beam_width: int = typer.Option(16, "--beam-width"),
    annotated: Path = typer.Option(DEFAULT_GOLD, "--annotated", help="Gold folder: documents in it are skipped"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the picks as JSONL"),
    push_to: bool = typer.Option(False, "--push", help="Push the picks to doccano"),
    project: Optional[str] = typer.Option(None, "--project", help="doccano project for --push"),
    url: str = _url_option(),
):
    """Rank documents by model uncertainty (beam search) with diversity; print the top N."""
    import spacy

    from .doccano_sync import read_documents, stable_doc_id
    from .errors import E, ReadoutError
    from .gold import read_all, write_jsonl
    from .select import rank

    if push_to and not project:
        raise ReadoutError(E.R017, detail="--push needs --project")
    exclude = {stable_doc_id(r) for r in read_all([annotated])} if annotated.exists() else set()
    _check_model(model)
    nlp = spacy.load(model)
    picks = rank(nlp, read_documents(paths), n, diversity, beam_width, exclude)
    msg.table(
        [(i + 1, c.doc_id, f"{c.uncertainty:.2f}", f"{c.similarity:.2f}", " ".join(c.record.text.split())[:60])
         for i, c in enumerate(picks)],
        header=("#", "doc_id", "uncertainty", "similarity", "text"),
        divider=True,
    )
    for c in picks:
        c.record.meta["uncertainty"] = round(c.uncertainty, 4)
    if output:
        write_jsonl(output, [c.record for c in picks])
        msg.good(f"wrote {len(picks)} documents to {output}")
    if push_to:
        _push_records([c.record for c in picks], project, url, model, DEFAULT_GOLD, True,
                     Path("annotations/GUIDELINES.md"), 32, beam_width)


@select_app.command("simulate")
@user_errors
def simulate_cmd(
    gold: List[Path] = typer.Option([DEFAULT_GOLD], "--gold", help="Gold JSONL files or folders"),
    target: List[Path] = typer.Option(
        [], "--target", help="Gold of a domain to learn (e.g. annotations/ood): test set drawn from it, the rest pooled"),
    rounds: int = typer.Option(5, "--rounds"),
    step: int = typer.Option(20, "--step", help="Documents annotated per round (and in the seed set)"),
    test_size: int = typer.Option(60, "--test-size", help="Held-out documents"),
    seeds: List[int] = typer.Option([0], "--seed", help="Repeat with each seed (give several)"),
    updates: int = typer.Option(480, "--updates", help="Document updates per training round"),
    pool_sample: int = typer.Option(120, "--pool-sample", help="Candidates scored per round"),
    beam_width: int = typer.Option(16, "--beam-width"),
    diversity: float = typer.Option(0.5, "--diversity"),
    out: Path = typer.Option(Path("reports/active_learning"), "--out"),
):
    """Uncertainty selection vs random on gold with hidden labels; writes results.json, curve.png and report.md."""
    from .gold import read_all
    from .select import SimulationConfig, overall, overall_line, report_rows, simulate, write_report

    config = SimulationConfig(
        rounds=rounds, step=step, test_size=test_size, seeds=tuple(seeds), updates=updates,
        pool_sample=pool_sample, beam_width=beam_width, diversity=diversity,
    )
    result = simulate(read_all(gold), config, log=msg.text, target=read_all(target) if target else ())
    header = ["annotated", "F1 uncertainty", "F1 random", "difference", "seeds won"]
    if target:
        header.append(f"target docs picked (of {result.n_target_pool})")
    msg.table(report_rows(result), header=header, divider=True)
    msg.text(overall_line(overall(result)))
    for path in write_report(result, out):
        msg.good(f"wrote {path}")


# ---------------------------------------------------------------- agreement


@app.command("agreement")
@user_errors
def agreement_cmd(
    files: List[Path] = typer.Argument(..., help="One JSONL per annotator, same documents (matched by doc_id)"),
    show: int = typer.Option(20, "--show", help="Disagreements to print per pair"),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full report, disagreements included"),
):
    """Pairwise span F1 per label (strict), token Cohen's kappa, and the disagreements."""
    from .agreement import agreement, load_annotations
    from .gold import atomic_write_text
    from .schema import LABELS

    pairs = agreement(load_annotations(files))
    msg.table(
        [
            (f"{p.a} / {p.b}", p.n_docs, f"{p.f1:.3f}",
             *(f"{p.per_label[label]:.3f}" if label in p.per_label else "-" for label in LABELS), f"{p.kappa:.3f}")
            for p in pairs
        ],
        header=("pair", "docs", "F1", *LABELS, "kappa"),
        divider=True,
    )
    for p in pairs:
        for d in p.disagreements[:show]:
            labels = ", ".join(f"{name}: {label or '-'}" for name, label in d.labels.items())
            msg.text(f"{d.doc_id} [{d.start}, {d.end}] {d.text!r}: {labels}")
        if len(p.disagreements) > show:
            msg.text(f"... {len(p.disagreements) - show} more between {p.a} and {p.b}")
    if json_out:
        atomic_write_text(json_out, json.dumps([asdict(p) for p in pairs], indent=2, ensure_ascii=False) + "\n")
        msg.good(f"wrote {json_out}")


@app.command("adjudicate")
@user_errors
def adjudicate_cmd(
    files: List[Path] = typer.Argument(..., help="One JSONL per annotator"),
    reviewer: Optional[str] = typer.Option(
        None, "--reviewer", help="Annotator (file name) whose version settles conflicts"
    ),
    majority: bool = typer.Option(False, "--majority", help="Keep a contested span if more than half marked it"),
    output: Path = typer.Option(..., "--output", "-o", help="Adjudicated gold JSONL"),
    force: bool = typer.Option(False, "--force", help="Replace OUTPUT if it exists"),
):
    """Merge annotators' versions: unanimous spans stay; conflicts go to the reviewer or the majority."""
    from .agreement import adjudicate, load_annotations
    from .errors import E, ReadoutError
    from .gold import write_jsonl

    if output.exists() and not force:
        raise ReadoutError(E.R019, path=output)
    result = adjudicate(load_annotations(files), reviewer=reviewer, majority=majority)
    write_jsonl(output, result.records)
    msg.good(
        f"wrote {len(result.records)} documents to {output} ({result.method}): {result.unanimous} unanimous spans, "
        f"{result.resolved} contested kept, {result.rejected} contested dropped"
    )
