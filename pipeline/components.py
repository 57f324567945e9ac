"""Pipeline components.

`readout_entity_trimmer` enforces the guidelines' span edges on predictions: quote marks,
title marks (《》) and sentence punctuation are never part of a span, but a statistical NER
occasionally swallows one when quotes are unbalanced or glued to a word.
"""

from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from .schema import EDGE_PUNCT


@Language.factory(
    "readout_entity_trimmer",
    default_config={"strip": EDGE_PUNCT},
    requires=["doc.ents"],
    assigns=["doc.ents"],
)
def make_entity_trimmer(nlp: Language, name: str, strip: str) -> "EntityTrimmer":
    return EntityTrimmer(name, strip)


class EntityTrimmer:
    def __init__(self, name: str, strip: str):
        self.name = name
        self.strip = set(strip)

    def _edge(self, token) -> bool:
        return all(c in self.strip for c in token.text)

    def _trim(self, span):
        start, end = span.start, span.end
        while start < end and self._edge(span.doc[start]):
            start += 1
        while end > start and self._edge(span.doc[end - 1]):
            # keep ")" when its "(" is inside, as in "Plan (2021-2025)"
            if span.doc[end - 1].text == ")" and any(t.text == "(" for t in span.doc[start : end - 1]):
                break
            end -= 1
        return span.doc[start:end] if start < end else None

    def __call__(self, doc: Doc) -> Doc:
        trimmed = ((self._trim(ent), ent.label) for ent in doc.ents)
        doc.ents = filter_spans([Span(doc, t.start, t.end, label=label) for t, label in trimmed if t is not None])
        return doc
