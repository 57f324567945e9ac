import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, TAGGED


@pytest.fixture
def tagged_file(tmp_path) -> Path:
    path = tmp_path / "docs.tagged"
    path.write_text(TAGGED, encoding="utf8")
    return path


@pytest.fixture
def records(tagged_file):
    from pipeline.markup import read_markup

    return read_markup(tagged_file)


@pytest.fixture
def gold_dir(tmp_path, records) -> Path:
    from pipeline.gold import write_jsonl as write

    folder = tmp_path / "gold"
    write(folder / "docs.jsonl", records)
    return folder


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """A real `spacy train` run on tiny data, cut to a few steps: enough to load and tag."""
    from pipeline.convert import records_to_docbin
    from pipeline.markup import read_markup

    tmp = tmp_path_factory.mktemp("train")
    (tmp / "docs.tagged").write_text(TAGGED, encoding="utf8")
    recs = read_markup(tmp / "docs.tagged")
    records_to_docbin(recs, tmp / "train.spacy")
    records_to_docbin(recs, tmp / "dev.spacy")
    out = tmp / "model"
    subprocess.run(
        [
            sys.executable, "-m", "spacy", "train", str(ROOT / "configs" / "cpu.cfg"), "--output", str(out),
            "--paths.train", str(tmp / "train.spacy"), "--paths.dev", str(tmp / "dev.spacy"),
            "--training.max_steps", "120", "--training.eval_frequency", "40",
        ],
        check=True, capture_output=True, cwd=ROOT,
    )
    return out / "model-best"
