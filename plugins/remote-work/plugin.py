"""Remote work: topics, a meeting-transcript loader and an async check-in session template.

A Python plugin, so that facilitators see every kind of hook in use; its topics are kept as
data in topics.toml so they can be reviewed like any declarative pack's.
"""

from __future__ import annotations

import io
import tomllib
from pathlib import Path

from coach.plugins import (
    Block,
    Document,
    Phase,
    SessionTemplate,
    Skip,
    Topic,
    hookimpl,
)

HERE = Path(__file__).parent
TURNS_PER_SECTION_MINUTES = 5


@hookimpl
def register_topics(register):
    data = tomllib.loads((HERE / "topics.toml").read_text(encoding="utf-8"))
    for raw in data["topics"]:
        register(Topic.model_validate(raw))


@hookimpl
def register_session_templates(register):
    register(
        SessionTemplate(
            id="async-check-in",
            title="30-minute check-in after an async week",
            description="For distributed pairs who swapped a written update during the week.",
            phases=[
                Phase(id="read", title="Read the update together", minutes=5),
                Phase(id="questions", title="Questions the update raised", minutes=10),
                Phase(id="try-it", title="Try the next tool live", minutes=10),
                Phase(id="next-async", title="Agree next week's async experiment", minutes=5),
            ],
        )
    )


@hookimpl
def register_loaders(register):
    register([".vtt"], load_transcript)


def load_transcript(path: Path, data: bytes) -> Document:
    """A WebVTT meeting transcript: one block per speaker turn, sections of five minutes."""
    import webvtt
    from webvtt.errors import MalformedFileError

    try:
        captions = webvtt.from_buffer(io.StringIO(data.decode("utf-8-sig")))
    except (UnicodeDecodeError, MalformedFileError) as exc:
        raise Skip(f"not a readable WebVTT transcript: {exc}") from None
    turns: list[tuple[str, str, int]] = []
    for caption in captions:
        speaker = caption.voice or "Speaker"
        text = " ".join(caption.text.split())
        minute = int(caption.start_in_seconds // 60)
        if turns and turns[-1][0] == speaker:
            turns[-1] = (speaker, f"{turns[-1][1]} {text}", turns[-1][2])
        elif text:
            turns.append((speaker, text, minute))
    parts, blocks, position = [], [], 0
    for speaker, text, minute in turns:
        line = f"{speaker}: {text}"
        window = minute // TURNS_PER_SECTION_MINUTES * TURNS_PER_SECTION_MINUTES
        heading = (f"Minutes {window}-{window + TURNS_PER_SECTION_MINUTES}",)
        blocks.append(Block(heading, position, position + len(line)))
        parts.append(line)
        position += len(line) + 1
    title = path.stem.replace("-", " ").replace("_", " ").capitalize()
    return Document("\n".join(parts), f"Transcript: {title}", blocks)
