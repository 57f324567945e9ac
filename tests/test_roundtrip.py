import pytest
import spacy

from pipeline.convert import doc_to_record, read_docbin, records_to_docbin
from pipeline.gold import read_all, read_jsonl, write_jsonl
from helpers import ROOT


def roundtrip(records, tmp_path):
    records_to_docbin(records, tmp_path / "x.spacy")
    docs = read_docbin(tmp_path / "x.spacy", spacy.blank("en").vocab)
    write_jsonl(tmp_path / "back.jsonl", [doc_to_record(d) for d in docs])
    return list(read_jsonl(tmp_path / "back.jsonl"))


def test_roundtrip_keeps_every_span_and_meta(records, tmp_path):
    back = roundtrip(records, tmp_path)
    assert [(r.text, sorted(r.spans), r.meta) for r in back] == [(r.text, sorted(r.spans), r.meta) for r in records]


def test_roundtrip_of_the_shipped_gold(tmp_path):
    gold = read_all([ROOT / "annotations" / "gold", ROOT / "annotations" / "ood"])
    if not gold:
        pytest.fail("no gold data shipped under annotations/")
    back = roundtrip(gold, tmp_path)
    assert sum(len(r.spans) for r in back) == sum(len(r.spans) for r in gold)
    assert all(sorted(a.spans) == sorted(b.spans) for a, b in zip(gold, back))
