import random

import spacy
from spacy.training import Example

from pipeline.augment import flip_quotes, orth_variants


def example(nlp, text, spans):
    ref = nlp.make_doc(text)
    ref.ents = [ref.char_span(s, e, label=lb) for s, e, lb in spans]
    return Example(nlp.make_doc(text), ref)


def test_variants_keep_labels_and_offsets():
    nlp = spacy.blank("en")
    text = 'Vice Governor Li Ming backed the "Two Safeguards".'
    spans = [(0, 13, "TITLE"), (14, 21, "PERSON"), (34, 48, "SLOGAN")]
    random.seed(3)
    seen = set()
    for _ in range(30):
        (eg,) = orth_variants(nlp, example(nlp, text, spans), quote_level=1.0, title_case_level=1.0)
        ents = [(e.start_char, e.end_char, e.label_) for e in eg.reference.ents]
        assert ents == spans
        assert eg.reference.text[34:48] == "Two Safeguards" and "“" in eg.reference.text
        seen.add(eg.reference.text[:13])
    assert seen == {"vice governor", "Vice Governor"}


def test_flip_quotes_both_ways():
    assert flip_quotes('say "a" and \'b\'') == "say “a” and ‘b’"
    assert flip_quotes("“a” ‘b’") == "\"a\" 'b'"
