"""Speed and memory benchmark (not a test): tokenizer only, the CPU pipeline and the
transformer pipeline on the same texts; words/s is the median of several runs, peak memory is
the max RSS of a fresh process per pipeline. Writes bench/RESULTS.md.

    .venv/bin/python bench/bench.py [--runs 5] [--gpu]
"""

from __future__ import annotations

import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import List

import typer

ROOT = Path(__file__).resolve().parents[1]
TARGET_CPU_WPS = 15_000


def texts_of(paths: list[Path]) -> list[str]:
    import spacy
    from spacy.tokens import DocBin

    vocab = spacy.blank("en").vocab
    return [d.text for p in paths for d in DocBin().from_disk(p).get_docs(vocab)]


def measure(model: str, paths: list[Path], runs: int, gpu: bool) -> dict:
    """Runs in its own process, so ru_maxrss is this pipeline's peak alone."""
    import spacy

    if gpu:
        spacy.require_gpu()
    texts = texts_of(paths)
    nlp = spacy.blank("en") if model == "tokenizer" else spacy.load(model)
    run = (lambda: [nlp.make_doc(t) for t in texts]) if model == "tokenizer" else (lambda: list(nlp.pipe(texts, batch_size=64)))
    n_words = sum(len(d) for d in run())  # also the warm-up
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)
    return {
        "words": n_words,
        "seconds": seconds,
        "words_per_second": n_words / statistics.median(seconds),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def machine() -> dict:
    import spacy
    import torch

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0")
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    import os

    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": round(int(mem) / 1024**2, 1), "gpu": gpu,
            "python": platform.python_version(), "spacy": spacy.__version__, "torch": torch.__version__}


def train_seconds(model_dir: Path) -> str:
    """Wall time recorded by `make train-*`, with where it trained: a model trained on a GPU
    machine and benchmarked on this one keeps its own figure."""
    f, device = model_dir / "train_seconds", model_dir / "train_device"
    if not f.exists():
        return "not recorded"
    where = f" ({device.read_text().strip()})" if device.exists() else ""
    return f"{float(f.read_text()):,.0f} s{where}"


def main(
    runs: int = typer.Option(5, help="Timed runs per pipeline (median reported)"),
    trf_runs: int = typer.Option(3, help="Timed runs for the transformer on CPU (slow)"),
    data: List[Path] = typer.Option([ROOT / "corpus/test.spacy", ROOT / "corpus/dev.spacy"], help="Texts"),
    cpu_model: Path = typer.Option(ROOT / "models/cpu/model-best"),
    trf_model: Path = typer.Option(ROOT / "models/trf/model-best"),
    gpu: bool = typer.Option(False, help="Also run the transformer on GPU 0"),
    one: str = typer.Option("", hidden=True),
    one_gpu: bool = typer.Option(False, hidden=True),
    output: Path = typer.Option(ROOT / "bench/RESULTS.md"),
):
    if one:
        print(json.dumps(measure(one, data, runs, one_gpu)))
        return
    plan = [("tokenizer only (the limit)", "tokenizer", runs, False, None),
            ("CPU pipeline (tok2vec + ner)", str(cpu_model), runs, False, cpu_model.parent),
            ("transformer pipeline, CPU", str(trf_model), trf_runs, False, trf_model.parent)]
    if gpu:
        plan.append(("transformer pipeline, GPU", str(trf_model), runs, True, trf_model.parent))
    rows = []
    for label, model, n, on_gpu, train_dir in plan:
        if model != "tokenizer" and not Path(model).exists():
            print(f"skip {label}: {model} not found", file=sys.stderr)
            continue
        cmd = [sys.executable, __file__, "--one", model, "--runs", str(n), *sum((["--data", str(p)] for p in data), [])]
        out = subprocess.run(cmd + (["--one-gpu"] if on_gpu else []), check=True, capture_output=True, text=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((label, r, train_seconds(train_dir) if train_dir else "—"))
        print(f"{label}: {r['words_per_second']:,.0f} words/s, peak {r['peak_rss_mb']:,.0f} MB", file=sys.stderr)
    m = machine()
    lines = [
        "# Benchmark results", "",
        f"Written by `{' '.join(['bench/bench.py', *sys.argv[1:]])}` (`make bench`); do not edit by hand.", "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB RAM, GPU: {m['gpu']}; "
        f"Python {m['python']}, spaCy {m['spacy']}, torch {m['torch']}.", "",
        f"Texts: {', '.join(p.name for p in data)} ({rows[0][1]['words']:,} words). Words/s is the median of the "
        "timed runs after one warm-up; peak memory is the max RSS of a fresh process that loads the pipeline "
        "and runs it.", "",
        "| pipeline | words/s (median) | runs (s) | peak memory | training wall time |", "|---|---|---|---|---|",
    ]
    for label, r, t in rows:
        secs = ", ".join(f"{s:.2f}" for s in r["seconds"])
        lines.append(f"| {label} | {r['words_per_second']:,.0f} | {secs} | {r['peak_rss_mb']:,.0f} MB | {t} |")
    cpu = next((r for label, r, _ in rows if label.startswith("CPU")), None)
    if cpu and m["cores"] == 2:
        verdict = "meets" if cpu["words_per_second"] >= TARGET_CPU_WPS else "misses"
        lines += ["", f"Target: CPU pipeline ≥ {TARGET_CPU_WPS:,} words/s on 2 cores — {verdict} it "
                      f"({cpu['words_per_second']:,.0f} words/s)."]
    elif cpu:
        lines += ["", f"The {TARGET_CPU_WPS:,} words/s target is for 2 cores; this machine has {m['cores']}."]
    output.write_text("\n".join(lines) + "\n", encoding="utf8")
    print("\n".join(lines))


if __name__ == "__main__":
    typer.run(main)
