"""CoachContext: what loads in the app's workers, and how each outcome is reported."""

from __future__ import annotations

import pytest

from coach.ui.context import CoachContext, NotReady


def test_database_and_plugins_load_with_settings_read_on_the_way(coach_home):
    context = CoachContext()  # as `coach` opens it: no settings read before the first frame
    seen: list[tuple[str, str]] = []
    context.subscribe(lambda resource: seen.append((resource.key, resource.state)))
    with pytest.raises(NotReady, match="still being read"):
        context.settings  # noqa: B018
    context.open_database()
    context.load_plugins()
    assert context.settings.home == coach_home
    assert seen == [
        ("database", "loading"),
        ("database", "ready"),
        ("plugins", "loading"),
        ("plugins", "ready"),
    ]
    assert "ai-tools" in {info.name for info in context.host.plugins}
    context.close()


def test_a_bad_config_fails_the_database_with_the_reason(coach_home, monkeypatch, tmp_path):
    bad = tmp_path / "coach.toml"
    bad.write_text('top_k = "many"\n')
    monkeypatch.setenv("COACH_CONFIG", str(bad))
    context = CoachContext()
    with pytest.raises(Exception, match="top_k"):
        context.open_database()
    resource = context.resources["database"]
    assert resource.state == "failed" and "top_k" in resource.detail
    with pytest.raises(NotReady, match="Programme failed to load: ConfigError"):
        context.db  # noqa: B018


def test_the_model_is_off_for_none_and_failed_for_a_missing_file(coach_home, monkeypatch):
    monkeypatch.setenv("COACH_MODEL", "none")
    context = CoachContext()
    context.open_database()
    context.load_model()
    assert context.state("model") == "off" and context.generator is None

    monkeypatch.setenv("COACH_MODEL", "gguf:/no/such/model.gguf")
    context = CoachContext()
    context.open_database()
    with pytest.raises(Exception, match="no such file"):
        context.load_model()
    assert context.state("model") == "failed"
    assert "no such file" in context.resources["model"].detail
    assert context.generator is None


def test_pieces_handed_in_are_ready_and_never_reloaded(db, host):
    from coach.settings import load_settings

    context = CoachContext(load_settings(), db=db, host=host, knowledge=False, model=False)
    assert [context.state(k) for k in ("database", "plugins", "knowledge", "model")] == [
        "ready",
        "ready",
        "off",
        "off",
    ]
    context.open_database()
    context.load_plugins()
    context.load_knowledge()
    context.load_model()
    assert context.db is db and context.host is host and context.kb is None


def test_servers_down_at_start_up_fail_their_parts_with_where_and_why(
    coach_home, monkeypatch, private_postgres
):
    """A stopped PostgreSQL and a closed Chroma port: each part says so; plugins still load."""
    from tests.servers import free_port

    monkeypatch.setenv("COACH_DATABASE_URL", private_postgres.create_database())
    private_postgres.stop()
    closed = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("COACH_KNOWLEDGE_URL", closed)
    context = CoachContext()
    with pytest.raises(ConnectionError):
        context.open_database()
    database = context.resources["database"]
    assert database.state == "failed"
    assert "cannot reach the programme database" in database.detail
    assert f"127.0.0.1:{private_postgres.port}" in database.detail
    context.load_plugins()
    assert context.resources["plugins"].state == "ready"
    context.load_knowledge()
    knowledge = context.resources["knowledge"]
    assert knowledge.state == "failed" and closed in knowledge.detail
    context.close()
