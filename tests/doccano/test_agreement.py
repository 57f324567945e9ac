"""Agreement and adjudication on a hand-made case whose numbers are worked out below."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from pipeline.agreement import adjudicate, agreement, load_annotations
from pipeline.cli import app
from pipeline.errors import ReadoutError
from pipeline.gold import Record, read_jsonl, write_jsonl
from pipeline.validate import validate_records

TEXT = "Premier Li Qiang met Wang Yi and Governor Xu Kunlin."
# tokens: Premier Li Qiang met Wang Yi and Governor Xu Kunlin .


def sp(needle: str, label: str) -> tuple[int, int, str]:
    start = TEXT.index(needle)
    return start, start + len(needle), label


A = [
    sp("Premier", "TITLE"), sp("Li Qiang", "PERSON"), sp("Wang Yi", "PERSON"), sp("Governor", "TITLE"),
    sp("Xu Kunlin", "PERSON"),
]
# B misses Premier and calls Wang Yi a TITLE.
B = [sp("Li Qiang", "PERSON"), sp("Wang Yi", "TITLE"), sp("Governor", "TITLE"), sp("Xu Kunlin", "PERSON")]


@pytest.fixture
def files(tmp_path):
    def make(**versions):
        paths = []
        for name, spans in versions.items():
            path = tmp_path / f"{name}.jsonl"
            write_jsonl(path, [Record(TEXT, spans, {"doc_id": "d-1", "genre": "commentary"})])
            paths.append(path)
        return paths

    return make


def test_pairwise_numbers(files):
    (pair,) = agreement(load_annotations(files(alice=A, bob=B)))
    assert (pair.a, pair.b, pair.n_docs) == ("alice", "bob", 1)
    # 3 spans shared; alice has 5, bob 4: F1 = 2*3 / (5+4).
    assert pair.f1 == pytest.approx(6 / 9)
    # PERSON: 2 shared of 3 and 2 -> 4/5; TITLE: 1 shared of 2 and 2 -> 2/4. No SLOGAN/DOCUMENT anywhere.
    assert pair.per_label == pytest.approx({"PERSON": 0.8, "TITLE": 0.5})
    # BIO tags over 11 tokens: 8 agree (po = 8/11). Chance agreement from the tag counts,
    # alice {B-TITLE 2, B-PERSON 3, I-PERSON 3, O 3}, bob {B-TITLE 2, B-PERSON 2, I-PERSON 2, O 4, I-TITLE 1}:
    # pe = (2*2 + 3*2 + 3*2 + 3*4) / 121 = 28/121; kappa = (88 - 28) / (121 - 28) = 60/93.
    assert pair.kappa == pytest.approx(60 / 93)
    assert [(d.text, d.labels) for d in pair.disagreements] == [
        ("Premier", {"alice": "TITLE", "bob": None}),
        ("Wang Yi", {"alice": "PERSON", "bob": "TITLE"}),
    ]


def test_identical_annotators_agree_fully(files):
    (pair,) = agreement(load_annotations(files(alice=A, carol=A)))
    assert pair.f1 == 1.0 and pair.kappa == 1.0 and pair.disagreements == []


def test_three_annotators_give_three_pairs(files):
    pairs = agreement(load_annotations(files(alice=A, bob=B, carol=A)))
    assert [(p.a, p.b) for p in pairs] == [("alice", "bob"), ("alice", "carol"), ("bob", "carol")]
    assert [round(p.f1, 4) for p in pairs] == [round(6 / 9, 4), 1.0, round(6 / 9, 4)]


def test_majority_of_three(files):
    result = adjudicate(load_annotations(files(alice=A, bob=B, carol=A)), majority=True)
    (rec,) = result.records
    assert sorted(rec.spans) == sorted(A)  # alice and carol outvote bob on both contested spans
    assert (result.unanimous, result.resolved, result.rejected) == (3, 2, 1)
    assert rec.meta["doc_id"] == "d-1" and rec.meta["genre"] == "commentary"
    assert rec.meta["adjudicated"] == {"method": "majority", "annotators": ["alice", "bob", "carol"]}
    assert validate_records(result.records) == []


def test_majority_of_two_keeps_only_what_both_marked(files):
    result = adjudicate(load_annotations(files(alice=A, bob=B)), majority=True)
    assert sorted(result.records[0].spans) == sorted(set(A) & set(B))
    assert (result.unanimous, result.resolved, result.rejected) == (3, 0, 3)


def test_reviewer_settles_conflicts(files):
    result = adjudicate(load_annotations(files(alice=A, bob=B)), reviewer="bob")
    assert sorted(result.records[0].spans) == sorted(B)
    assert (result.unanimous, result.resolved, result.rejected) == (3, 1, 2)


def test_bad_requests(files, tmp_path):
    paths = files(alice=A, bob=B)
    with pytest.raises(ReadoutError, match="exactly one"):
        adjudicate(load_annotations(paths), reviewer="bob", majority=True)
    with pytest.raises(ReadoutError, match="not one of the annotators"):
        adjudicate(load_annotations(paths), reviewer="dave")
    with pytest.raises(ReadoutError, match="at least two"):
        load_annotations(paths[:1])
    other = tmp_path / "other" / "carol.jsonl"
    write_jsonl(other, [Record(TEXT.replace("Premier", "premier"), [], {"doc_id": "d-1"})])
    with pytest.raises(ReadoutError, match="different texts") as err:
        agreement(load_annotations([paths[0], other]))
    assert err.value.code == "R020"
    lonely = tmp_path / "other" / "dave.jsonl"
    write_jsonl(lonely, [Record("Something else entirely.", [], {"doc_id": "d-9"})])
    with pytest.raises(ReadoutError, match="no document in common"):
        agreement(load_annotations([paths[0], lonely]))


def test_cli(files, tmp_path):
    paths = [str(p) for p in files(alice=A, bob=B, carol=A)]
    runner = CliRunner()
    result = runner.invoke(app, ["agreement", *paths, "--json", str(tmp_path / "agreement.json")])
    assert result.exit_code == 0, result.output
    assert "alice / bob" in result.output and "0.645" in result.output  # kappa 60/93
    assert "'Wang Yi': alice: PERSON, bob: TITLE" in result.output
    assert (tmp_path / "agreement.json").exists()

    out = tmp_path / "adjudicated.jsonl"
    result = runner.invoke(app, ["adjudicate", *paths, "--majority", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(next(read_jsonl(out)).spans) == sorted(A)
    result = runner.invoke(app, ["adjudicate", *paths, "--reviewer", "bob", "-o", str(out)])
    assert result.exit_code == 1 and "[R019]" in result.output  # exists: no silent overwrite
    result = runner.invoke(app, ["adjudicate", *paths, "-o", str(tmp_path / "x.jsonl")])
    assert result.exit_code == 1 and "exactly one" in result.output and not (tmp_path / "x.jsonl").exists()
