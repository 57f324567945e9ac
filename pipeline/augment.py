"""Training-time augmentation for the orthographic noise of machine-translated readouts.

Real readouts mix straight and curly quotes and capitalise posts inconsistently
("Vice Governor" / "vice governor"). Both variations keep every label valid under the
guidelines (lowercase posts are still TITLE), unlike lowercasing a whole document, which
would turn capitalised SLOGANs into untaggable text. Variants keep the text length, so the
gold character offsets carry over unchanged.
"""

from __future__ import annotations

import random
from functools import partial
from typing import Callable, Iterator

from spacy.language import Language
from spacy.training import Example
from spacy.util import registry

CURLY = {'"': ("“", "”"), "'": ("‘", "’")}
STRAIGHT = {"“": '"', "”": '"', "‘": "'", "’": "'"}
SMALL_WORDS = {"of", "the", "and", "for", "in", "at", "with", "on", "to"}


@registry.augmenters("readout.orth_variants.v1")
def create_orth_variants(quote_level: float, title_case_level: float) -> Callable[[Language, Example], Iterator[Example]]:
    """quote_level: share of documents whose quote style is flipped; title_case_level: share whose
    TITLE spans are re-cased (lowercased or capitalised)."""
    return partial(orth_variants, quote_level=quote_level, title_case_level=title_case_level)


def flip_quotes(text: str) -> str:
    if any(c in STRAIGHT for c in text):
        return "".join(STRAIGHT.get(c, c) for c in text)
    out = []
    for i, c in enumerate(text):
        if c in CURLY:
            opening = i == 0 or text[i - 1].isspace() or text[i - 1] in "([{"
            out.append(CURLY[c][0] if opening else CURLY[c][1])
        else:
            out.append(c)
    return "".join(out)


def recase(span_text: str, lower: bool) -> str:
    if lower:
        return span_text.lower()
    return " ".join(w if w in SMALL_WORDS else w[:1].upper() + w[1:] for w in span_text.split(" "))


def orth_variants(nlp: Language, example: Example, *, quote_level: float, title_case_level: float) -> Iterator[Example]:
    flip = random.random() < quote_level
    case = random.random() < title_case_level
    if not (flip or case):
        yield example
        return
    ref = example.reference
    spans = [(e.start_char, e.end_char, e.label_) for e in ref.ents]
    text = flip_quotes(ref.text) if flip else ref.text
    if case:
        lower = random.random() < 0.5
        for start, end, label in spans:
            if label == "TITLE":
                new = recase(text[start:end], lower)
                if len(new) == end - start:
                    text = text[:start] + new + text[end:]
    doc = nlp.make_doc(text)
    ents = [doc.char_span(s, e, label=lb) for s, e, lb in spans]
    if any(e is None for e in ents):  # the tokenizer split differently: keep the original
        yield example
        return
    doc.ents = ents
    yield Example(nlp.make_doc(text), doc)
