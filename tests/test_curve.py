import spacy
from spacy.tokens import DocBin

from pipeline.convert import records_to_docbin
from pipeline.curve import subset


def test_subsets_are_nested_and_sized(records, tmp_path):
    records_to_docbin(records, tmp_path / "train.spacy")
    vocab = spacy.blank("en").vocab
    texts = {}
    for fraction in (0.5, 1.0):
        n = subset(tmp_path / "train.spacy", fraction, tmp_path / f"{fraction}.spacy")
        texts[fraction] = [d.text for d in DocBin().from_disk(tmp_path / f"{fraction}.spacy").get_docs(vocab)]
        assert n == len(texts[fraction]) == round(fraction * len(records))
    assert set(texts[0.5]) < set(texts[1.0])  # a larger share contains the smaller one
