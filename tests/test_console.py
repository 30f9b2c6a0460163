"""What the CLI prints for people: topic cards keep plugin text exactly as written."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown

from coach.console import topic_markdown
from coach.plugins.models import Exercise, Resource, Topic


def render(markdown: str) -> str:
    console = Console(width=200, record=True)
    console.print(Markdown(markdown))
    return console.export_text()


def test_topic_card_keeps_angle_brackets_and_asterisks() -> None:
    topic = Topic(
        id="cards",
        title="Cards",
        summary="Name the file '<Team> update' and rate it *out of five*.",
        exercises=[Exercise(title="Rename", goal="Done", steps=["Type <date> then press Enter"])],
        resources=[Resource(title="Help", url="https://example.org/help", note="Official.")],
    )
    text = render(topic_markdown(topic, "demo"))
    assert "Name the file '<Team> update' and rate it *out of five*." in text
    assert "Type <date> then press Enter" in text
    assert "Exercise: Rename (20 min)" in text
    assert "Help: Official." in text
