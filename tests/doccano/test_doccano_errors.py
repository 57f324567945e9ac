"""Failures talking to doccano end in one R017 line and a non-zero exit, with nothing written."""

from __future__ import annotations

import socket

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.doccano_server import free_port
from pipeline.doccano_sync import connect, push
from pipeline.errors import ReadoutError
from pipeline.gold import Record


def test_unreachable_server():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ReadoutError) as err:
        connect(url, "admin", "whatever")
    assert err.value.code == "R017" and "cannot reach" in err.value.message


def test_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        with pytest.raises(ReadoutError) as err:
            connect(f"http://127.0.0.1:{silent.getsockname()[1]}", "admin", "whatever", timeout=1)
    assert err.value.code == "R017" and "did not answer in time" in err.value.message


def test_cli_unreachable_is_one_line_and_exit_1(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCCANO_ADMIN_USER", "admin")
    monkeypatch.setenv("DOCCANO_ADMIN_PASSWORD", "whatever")
    into = tmp_path / "gold" / "doccano.jsonl"
    result = CliRunner().invoke(
        app, ["doccano", "pull", "--project", "p", "--url", f"http://127.0.0.1:{free_port()}", "--into", str(into),
              "--gold", str(tmp_path / "gold"), "--out", str(tmp_path / "pulled")],
    )
    assert result.exit_code == 1 and "[R017]" in result.output and "Traceback" not in result.output
    assert not into.exists() and not (tmp_path / "pulled").exists()


def test_cli_without_credentials(monkeypatch):
    monkeypatch.delenv("DOCCANO_ADMIN_USER", raising=False)
    monkeypatch.delenv("DOCCANO_ADMIN_PASSWORD", raising=False)
    result = CliRunner().invoke(app, ["doccano", "pull", "--project", "p"])
    assert result.exit_code == 1 and "DOCCANO_ADMIN_USER" in result.output


@pytest.mark.doccano
def test_wrong_password(doccano, admin_env):
    with pytest.raises(ReadoutError) as err:
        connect(doccano.url, admin_env[0], admin_env[1] + "-wrong")
    assert err.value.code == "R017" and "wrong user name or password" in err.value.message


@pytest.mark.doccano
def test_project_with_labels_outside_the_schema_is_refused(client, project_name):
    project = client.create_project(project_name, "SequenceLabeling", "not ours")
    client.create_label_type(project.id, "span", "ORG")
    with pytest.raises(ReadoutError) as err:
        push(client, project_name, [Record("Li Qiang spoke.", [], {"doc_id": "x"})], None, progress=False)
    assert err.value.code == "R017" and "labels outside the schema: ORG" in err.value.message
    assert client.count_examples(project.id) == 0


@pytest.mark.doccano
def test_project_in_grapheme_mode_is_refused(client, project_name):
    client.create_project(project_name, "SequenceLabeling", "graphemes", grapheme_mode=True)
    with pytest.raises(ReadoutError) as err:
        push(client, project_name, [Record("Li Qiang spoke.", [], {"doc_id": "x"})], None, progress=False)
    assert err.value.code == "R017" and "grapheme" in err.value.message


@pytest.mark.doccano
def test_pull_of_missing_project(client):
    from pipeline.doccano_sync import pull

    with pytest.raises(ReadoutError) as err:
        pull(client, "no-such-project")
    assert err.value.code == "R017" and "no such project" in err.value.message
