"""The remote-work plugin loads cleanly and every topic is ready for a real session."""

from pathlib import Path

PLUGIN = Path(__file__).resolve().parent.parent


def test_loads_without_problems(plugin_check):
    check = plugin_check(PLUGIN)
    assert check.ok, check.problems
    assert check.info.warnings == []
    assert len(check.topics) >= 3


def test_every_topic_is_session_ready(plugin_check):
    assert plugin_check(PLUGIN).unready_topics() == []


def test_transcript_loader_reads_speaker_turns(plugin_check, tmp_path):
    from coach.knowledge import loaders

    check = plugin_check(PLUGIN)
    transcript = (
        "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n<v Sam>Can we move stand-up to chat?</v>\n\n"
        "00:00:05.000 --> 00:00:08.000\n<v Sam>Only on Fridays.</v>\n\n"
        "00:06:00.000 --> 00:06:03.000\n<v Priya>Yes, let us try it.</v>\n"
    )
    saved = dict(loaders._LOADERS)
    try:
        check.host.install_loaders()
        document = loaders.load(tmp_path / "standup.vtt", transcript.encode())
    finally:
        loaders._LOADERS.clear()
        loaders._LOADERS.update(saved)
    turns = [(block.heading, document.text[block.start : block.end]) for block in document.blocks]
    assert turns == [
        (("Minutes 0-5",), "Sam: Can we move stand-up to chat? Only on Fridays."),
        (("Minutes 5-10",), "Priya: Yes, let us try it."),
    ]


def test_async_check_in_template_is_thirty_minutes(plugin_check):
    template = plugin_check(PLUGIN).host.session_templates["async-check-in"].value
    assert template.minutes == 30 and len(template.phases) == 4
