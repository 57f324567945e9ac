import json

import numpy as np
import pytest
import spacy
from spacy.scorer import get_ner_prf
from spacy.training import Example

from pipeline.evaluate import DocResult, classify_errors, confusion, counts, error_kinds, score
from pipeline.report import write_report

# Two documents; gold and predicted spans chosen so every number below is worked out by hand.
TEXTS = ["Governor Wang Qingxian backed the Two Safeguards today.", "Li Qiang read the Constitution aloud."]
GOLD = [[(0, 8, "TITLE"), (9, 22, "PERSON"), (34, 48, "SLOGAN")], [(0, 8, "PERSON"), (18, 30, "DOCUMENT")]]
PRED = [[(0, 8, "TITLE"), (9, 13, "PERSON"), (34, 48, "DOCUMENT")], [(0, 8, "PERSON"), (31, 36, "SLOGAN")]]
# PERSON: tp 1 (Li Qiang), fp 1 (Wang), fn 1 (Wang Qingxian)  -> P = R = F = 0.5
# TITLE: tp 1                                                   -> 1.0
# SLOGAN: fp 1 ("aloud"), fn 1 ("Two Safeguards")               -> 0
# DOCUMENT: fp 1 ("Two Safeguards"), fn 1 ("Constitution")      -> 0
# micro: tp 2, fp 3, fn 3 -> P = R = F = 2/5


@pytest.fixture
def results():
    return [
        DocResult(doc_id=str(i), text=t, gold=sorted(g), pred=sorted(p), errors=classify_errors(sorted(g), sorted(p)))
        for i, (t, g, p) in enumerate(zip(TEXTS, GOLD, PRED))
    ]


def test_hand_computed_scores(results):
    m = score(counts(results), n_boot=200)
    pl = m["per_label"]
    assert pl["PERSON"]["p"] == pl["PERSON"]["r"] == pl["PERSON"]["f"] == 0.5
    assert pl["TITLE"]["f"] == 1.0 and pl["SLOGAN"]["f"] == 0.0 and pl["DOCUMENT"]["f"] == 0.0
    assert (pl["SLOGAN"]["fp"], pl["SLOGAN"]["fn"], pl["SLOGAN"]["support"]) == (1, 1, 1)
    assert m["micro"]["p"] == m["micro"]["r"] == pytest.approx(2 / 5)
    assert m["micro"]["f"] == pytest.approx(2 / 5)
    assert m["macro"]["f"] == pytest.approx((0.5 + 1 + 0 + 0) / 4)
    lo, hi = m["micro"]["f_ci"]
    assert lo <= m["micro"]["f"] <= hi and lo < hi


def test_matches_spacy_scorer(results):
    nlp = spacy.blank("en")
    examples = []
    for res in results:
        pred, ref = nlp.make_doc(res.text), nlp.make_doc(res.text)
        pred.ents = [pred.char_span(s, e, label=lb) for s, e, lb in res.pred]
        ref.ents = [ref.char_span(s, e, label=lb) for s, e, lb in res.gold]
        examples.append(Example(pred, ref))
    theirs = get_ner_prf(examples)
    ours = score(counts(results), n_boot=10)
    assert ours["micro"]["f"] == pytest.approx(theirs["ents_f"])
    for label, v in theirs["ents_per_type"].items():
        assert ours["per_label"][label]["f"] == pytest.approx(v["f"])


def test_error_kinds_and_confusion(results):
    kinds = [[e["kind"] for e in r.errors] for r in results]
    assert kinds == [["boundary", "label"], ["missed", "spurious"]]
    assert error_kinds(results)["PERSON"] == {"boundary": 1}
    conf = confusion(results)
    m = np.array(conf["matrix"])
    idx = {lb: i for i, lb in enumerate(conf["labels"])}
    assert m[idx["SLOGAN"], idx["DOCUMENT"]] == 1  # label error
    assert m[idx["DOCUMENT"], idx["NONE"]] == 1  # missed
    assert m[idx["NONE"], idx["SLOGAN"]] == 1  # spurious
    assert m[idx["PERSON"], idx["PERSON"]] == 2 and m.sum() == 6


def test_report_files(results, tmp_path):
    metrics = score(counts(results), n_boot=50)
    metrics.update(model="m", data=["d"], n_docs=2, n_words=16, speed={"seconds": 1.0, "words_per_second": 16.0},
                   confusion=confusion(results), errors=error_kinds(results), n_boot=50)
    out = write_report(metrics, results, tmp_path / "r", title="t")
    assert json.loads((out / "metrics.json").read_text())["micro"]["f"] == pytest.approx(2 / 5)
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page and "Wang Qingxian" in page and "<mark" in page
    assert (out / "f1.png").read_bytes()[:4] == b"\x89PNG"
    assert "| PERSON | 0.500" in (out / "report.md").read_text()


def test_compare_paired_bootstrap(results):
    from pipeline.evaluate import compare

    a = counts(results)
    same = compare(a, a, n_boot=200)
    assert same["micro"]["diff"] == 0 and same["micro"]["diff_ci"] == [0.0, 0.0]
    assert same["micro"]["p_not_better"] == 1.0  # a model never beats itself
    perfect = counts([DocResult(r.doc_id, r.text, r.gold, list(r.gold)) for r in results])
    better = compare(a, perfect, n_boot=200)
    assert better["micro"]["f_a"] == pytest.approx(2 / 5) and better["micro"]["f_b"] == 1.0
    assert better["micro"]["diff"] == pytest.approx(3 / 5) and better["micro"]["p_not_better"] == 0.0
    assert better["SLOGAN"]["diff"] == 1.0 and better["TITLE"]["diff"] == 0.0
    with pytest.raises(ValueError):
        compare(a, a[:1])
