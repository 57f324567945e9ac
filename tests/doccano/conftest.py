"""Fixtures for the annotation-loop tests: one real doccano server per test session.

The server is installed into the repository's .venv-doccano when missing (about a minute),
started on a free loopback port with a throwaway DOCCANO_HOME, and stopped at the end. The
admin password is made up here, per session: none is kept in the repository.
"""

from __future__ import annotations

import os
import random
import secrets
import uuid
from pathlib import Path

import pytest
import spacy
from spacy.training import Example

ROOT = Path(__file__).resolve().parents[2]

# Tiny training data for a model that only has to load, tag and give beam probabilities.
TRAIN = [
    ("Premier Li Qiang met Wang Yi in Beijing.", [(0, 7, "TITLE"), (8, 16, "PERSON"), (21, 28, "PERSON")]),
    ("Governor Xu Kunlin studied the 14th Five-Year Plan.", [(0, 8, "TITLE"), (9, 18, "PERSON"), (31, 50, "DOCUMENT")]),
    ("Wang Yi praised the Two Safeguards.", [(0, 7, "PERSON"), (20, 34, "SLOGAN")]),
    ("Secretary Huang Qiang cited the Constitution.", [(0, 9, "TITLE"), (10, 21, "PERSON"), (32, 44, "DOCUMENT")]),
]


@pytest.fixture(scope="session")
def admin_env():
    """DOCCANO_ADMIN_USER/PASSWORD for the session, restored afterwards."""
    saved = {k: os.environ.get(k) for k in ("DOCCANO_ADMIN_USER", "DOCCANO_ADMIN_PASSWORD")}
    os.environ["DOCCANO_ADMIN_USER"] = "readout-admin"
    os.environ["DOCCANO_ADMIN_PASSWORD"] = secrets.token_urlsafe(16)
    yield os.environ["DOCCANO_ADMIN_USER"], os.environ["DOCCANO_ADMIN_PASSWORD"]
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def doccano_venv() -> Path:
    from pipeline.doccano_server import ensure_installed

    venv = ROOT / ".venv-doccano"
    ensure_installed(venv)
    return venv


@pytest.fixture(scope="session")
def doccano(admin_env, doccano_venv, tmp_path_factory):
    """The running server (pipeline.doccano_server.Server), started with the code `readout
    doccano start` uses."""
    from pipeline.doccano_server import free_port, start, stop

    home = tmp_path_factory.mktemp("doccano-home")
    server = start(home=home, port=free_port(), venv=doccano_venv)
    yield server
    stop(home)


@pytest.fixture
def client(doccano, admin_env):
    from pipeline.doccano_sync import connect

    return connect(doccano.url, *admin_env)


@pytest.fixture
def project_name() -> str:
    """A fresh project per test: tests share the server, never a project."""
    return f"test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def make_annotator(client, doccano):
    """Create a doccano user, make them an annotator of a project, return their logged-in client."""
    from pipeline.doccano_sync import connect

    def make(project_id: int):
        name, password = f"ann-{uuid.uuid4().hex[:6]}", secrets.token_urlsafe(12)
        client.create_user(name, password)
        client.add_member(project_id, name, "annotator")
        return name, connect(doccano.url, name, password)

    return make


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """spacy.blank('en') + ner, a few updates, saved: enough to predict and to beam-parse."""
    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = [Example.from_dict(nlp.make_doc(t), {"entities": e}) for t, e in TRAIN]
    nlp.initialize(lambda: examples)
    rng = random.Random(0)
    for _ in range(20):
        rng.shuffle(examples)
        nlp.update(examples, drop=0.1)
    path = tmp_path_factory.mktemp("tiny-model") / "model"
    nlp.to_disk(path)
    return path
