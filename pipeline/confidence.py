"""Entity probabilities: from a trained NER's beam, or from how reliable a gold string is.

Both pre-annotation sources give every span a confidence in [0, 1], which `doccano push`
stores on the span (doccano's `prob` field), and the beam also scores how unsure the
model is about a whole document, which `readout select` ranks by.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

import numpy as np
import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.pipeline import EntityRecognizer
from spacy.pipeline._parser_internals import _beam_utils
from spacy.tokens import Doc

from .errors import E, ReadoutError
from .gold import Record
from .validate import make_doc, tokenizer_nlp

DEFAULT_BEAM_WIDTH = 16
CharSpan = tuple[int, int, str, float]  # start, end, label, confidence
TokenEnt = tuple[int, int, str]  # token start, token end, label


def ner_pipe(nlp: Language) -> tuple[str, EntityRecognizer]:
    for name, pipe in nlp.pipeline:
        if isinstance(pipe, EntityRecognizer):
            return name, pipe
    raise ReadoutError(E.R016, detail=f"pipeline has no entity recognizer (pipes: {nlp.pipe_names})")


class _Validity:
    """Which transitions each beam state may take, as a boolean mask over the NER's classes.

    `moves.is_valid` answers for one state and one class, slowly (a name lookup per call).
    Without preset entities, BILUO validity depends only on the token position (the same for
    every state of a beam at a given step) and on the label of the open entity, if any, so a
    few calls per state give the whole mask. Docs with preset entities ask every class.
    """

    def __init__(self, moves):
        self.moves = moves
        self.names = [moves.get_class_name(i) for i in range(moves.n_moves)]
        self.labels = sorted({n[2:] for n in self.names if n.startswith("L-")})
        self.index = {n: i for i, n in enumerate(self.names)}
        self.closed: dict[tuple, np.ndarray] = {}

    def mask(self, state, preset: bool) -> np.ndarray:
        if preset:
            return np.array([self.moves.is_valid(state, n) for n in self.names], dtype=bool)
        mask = np.zeros(len(self.names), dtype=bool)
        if state.entity_is_open():
            label = next(lab for lab in self.labels if self.moves.is_valid(state, f"L-{lab}"))
            mask[self.index[f"L-{label}"]] = True
            mask[self.index[f"I-{label}"]] = self.moves.is_valid(state, f"I-{label}")
            return mask
        key = (id(state.doc), state.B(0))
        if key not in self.closed:
            probe = self.labels[0]
            begin, unit = self.moves.is_valid(state, f"B-{probe}"), self.moves.is_valid(state, f"U-{probe}")
            for i, name in enumerate(self.names):
                move, _, label = name.partition("-")
                if name == "O" or not label:
                    mask[i] = self.moves.is_valid(state, name)
                else:
                    mask[i] = (move == "B" and begin) or (move == "U" and unit)
            self.closed[key] = mask
        return self.closed[key]


def _normalised_beam_parse(ner: EntityRecognizer, docs: list[Doc], beam_width: int) -> list:
    """`ner.beam_parse` with each step's scores turned into log-probabilities over the valid moves.

    The greedy NER's raw scores are not normalised per step, so summing them along a path
    does not give its log-probability: the plain beam then ranks paths by the size of their
    logits and often keeps none that contains the greedy prediction (on the trained CPU model,
    a third of its predicted entities got probability 0). With a log-softmax over the valid
    moves at each step, a path's score is the log of the product of the probabilities the
    model gives its moves: a beam of one is exactly the greedy decoder, and the marginals
    `scored_ents` computes are probabilities under the model the greedy decoder follows
    (on the same model its predicted entities then get 0.97 on average).
    """
    validity = _Validity(ner.moves)
    preset = any(doc.has_annotation("ENT_IOB") for doc in docs)
    batch = _beam_utils.BeamBatch(ner.moves, ner.moves.init_batch(docs), None, beam_width, density=0.0)
    model = ner.model.predict(docs)
    while not batch.is_done:
        states = batch.get_unfinished_states()
        if not states:
            break
        scores = ner.model.ops.to_numpy(model.predict(states))
        valid = np.stack([validity.mask(state, preset) for state in states])
        masked = np.where(valid, scores, -np.inf)
        log_z = np.logaddexp.reduce(masked, axis=1, keepdims=True)
        # Invalid moves keep a very low finite score: the beam never picks them anyway.
        batch.advance(np.ascontiguousarray(np.where(valid, scores - log_z, -1e4), dtype="float32"))
    model.clear_memory()
    return list(batch)


def beam_entity_probs(
    nlp: Language, texts: Sequence[str], beam_width: int = DEFAULT_BEAM_WIDTH, batch_size: int = 16
) -> list[tuple[Doc, dict[TokenEnt, float]]]:
    """Each text's Doc (up to, not including, the NER) and P(entity) for every entity in its beam.

    The NER is trained greedily, but its transition probabilities drive a beam search just as
    well: the beam keeps the `beam_width` most probable complete analyses, and `scored_ents`
    gives each entity the summed probability of the analyses that contain it. That is a
    marginal over a truncated posterior: entities outside every kept analysis get no mass.
    """
    name, ner = ner_pipe(nlp)
    before = nlp.pipe_names[: nlp.pipe_names.index(name)]
    out: list[tuple[Doc, dict[TokenEnt, float]]] = []
    # Listener-based components read the tok2vec output the earlier pipes store on the doc,
    # so the pipes before the NER must run first.
    with nlp.select_pipes(enable=before):
        docs = list(nlp.pipe(texts, batch_size=batch_size))
    for i in range(0, len(docs), batch_size):
        batch = docs[i : i + batch_size]
        beams = _normalised_beam_parse(ner, batch, beam_width)
        for doc, scores in zip(batch, ner.scored_ents(beams)):
            out.append((doc, {ent: min(1.0, p) for ent, p in scores.items()}))
    return out


def expected_errors(probs: dict[TokenEnt, float]) -> float:
    """Expected number of wrong entity decisions if each candidate is kept when P > 0.5.

    A kept entity is wrong with probability 1 - p, a dropped one with probability p, so the
    expected loss of that decision is min(p, 1 - p), summed over the candidates the beam saw.
    """
    return sum(min(p, 1.0 - p) for p in probs.values())


def uncertainty(doc: Doc, probs: dict[TokenEnt, float]) -> float:
    """Expected entity errors per 100 tokens: the benefit of annotating a document per unit of
    annotation effort, which grows with its length. Certain documents score 0, a document whose
    every candidate is a coin toss scores highest; documents of different lengths compare fairly.
    """
    return 100.0 * expected_errors(probs) / max(len(doc), 1)


def span_probability(probs: dict[TokenEnt, float], start: int, end: int, label: str) -> float:
    """P(tokens start..end form one `label` entity) under the beam. A span that a component
    after the NER reshaped (the entity trimmer drops edge punctuation) is not in the beam as
    such: it gets the mass of the beam's `label` entities that contain it, the analyses it
    was cut from. An entity no analysis supports gets 0."""
    if (start, end, label) in probs:
        return probs[(start, end, label)]
    return min(1.0, sum(p for (s, e, lab), p in probs.items() if lab == label and s <= start and end <= e))


class Prelabeler(Protocol):
    """Pre-annotates texts: for each, its spans with a confidence; `name` says where they came from."""

    name: str

    def __call__(self, texts: Sequence[str]) -> list[list[CharSpan]]: ...


class ModelPrelabeler:
    """Spans the trained pipeline predicts, each with its beam probability."""

    def __init__(self, nlp: Language, beam_width: int = DEFAULT_BEAM_WIDTH, name: str = "model"):
        self.nlp = nlp
        self.beam_width = beam_width
        self.name = name

    def __call__(self, texts: Sequence[str]) -> list[list[CharSpan]]:
        scored = beam_entity_probs(self.nlp, texts, self.beam_width)
        result = []
        for doc, (_, probs) in zip(self.nlp.pipe(texts), scored):
            spans = [(e.start_char, e.end_char, e.label_, span_probability(probs, e.start, e.end, e.label_))
                     for e in doc.ents]
            result.append(spans)
        return result


@dataclass
class RulesPrelabeler:
    """An EntityRuler built from the strings labelled in gold data: data, not code.

    A string's confidence is how often it is labelled, with that label, where it occurs in
    the gold texts (on token boundaries): `Secretary` tagged 80 times out of 100 occurrences
    gets 0.8, a name always tagged gets 1.0.
    """

    nlp: Language
    confidence: dict[tuple[str, str], float]
    name: str = "rules from gold"

    @classmethod
    def from_records(cls, records: Iterable[Record], name: str = "rules from gold") -> "RulesPrelabeler":
        records = list(records)
        labelled: dict[str, Counter] = defaultdict(Counter)
        for rec in records:
            for start, end, label in rec.spans:
                labelled[rec.text[start:end]][label] += 1
        if not labelled:
            raise ReadoutError(E.R016, detail="no labelled spans in the gold data to build rules from")
        # A string seen with several labels is predicted with the one it has most often.
        best = {text: counts.most_common(1)[0] for text, counts in labelled.items()}
        matcher = PhraseMatcher(tokenizer_nlp().vocab)
        for text in best:
            matcher.add(text, [make_doc(text)])
        occurrences: Counter = Counter()
        for rec in records:
            doc = make_doc(rec.text)
            for match_id, _, _ in matcher(doc):
                occurrences[doc.vocab.strings[match_id]] += 1
        confidence = {
            (label, text): min(1.0, n / max(occurrences[text], n)) for text, (label, n) in best.items()
        }
        nlp = spacy.blank("en")
        ruler = nlp.add_pipe("entity_ruler")
        ruler.add_patterns([{"label": label, "pattern": text} for text, (label, _) in best.items()])
        return cls(nlp=nlp, confidence=confidence, name=name)

    def __call__(self, texts: Sequence[str]) -> list[list[CharSpan]]:
        return [
            [(e.start_char, e.end_char, e.label_, self.confidence.get((e.label_, e.text), 0.0)) for e in doc.ents]
            for doc in self.nlp.pipe(texts)
        ]
