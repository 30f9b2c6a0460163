"""Prompt templates: the built-ins render for real topics, overrides take precedence in order,
broken overrides never replace a working prompt, and the sandbox holds."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from coach.plugins.host import PluginHost
from coach.plugins.models import Exercise, Topic
from coach.prepare.ask import AnswerDraft
from coach.prepare.drafts import ExerciseDraft, Lines, RecapDraft, SummaryDraft
from coach.prepare.prompts import PromptError, PromptLibrary, builtin_prompts_dir
from coach.settings import load_settings
from tests.conftest import run_coach

BUILTINS = {"icebreakers", "questions", "exercise", "tips", "session_summary", "recap", "ask"}
PROMPT_BUDGET = 2500
"""Characters a built-in prompt may take for typical inputs: it must leave the 270M model room."""
CHAT_ONLY = {"ask"}
"""Templates only a chat model is given (``coach.prepare.ask``): they may take more room."""
CHAT_PROMPT_BUDGET = 4000
SHOWN = {"icebreakers": 4, "questions": 3, "tips": 3}
"""How many bank examples each list template shows, as the topic's ``Examples:`` list."""
LABELS = {
    "icebreakers": "Icebreakers:",
    "questions": "Questions:",
    "exercise": "Exercise:",
    "tips": "Tips for the mentee:",
    "session_summary": "Summary:",
    "recap": "Recap:",
    "ask": "Answer:",
}
"""The label each prompt ends on; the model's JSON answer follows it."""
DRAFTS: dict[str, type[BaseModel]] = {
    "icebreakers": Lines,
    "questions": Lines,
    "tips": Lines,
    "exercise": ExerciseDraft,
    "session_summary": SummaryDraft,
    "recap": RecapDraft,
    "ask": AnswerDraft,
}
"""The output type each prompt's answers must fit (``coach.prepare.drafts``)."""
GUIDED = {"exercise", "tips"}
"""Templates that show knowledge-base passages as ``Guide:`` lines (questions takes them but,
tuned on the 270M model, does not show them)."""


def answers(prompt: str, label: str) -> list[dict]:
    """Every one-line JSON answer in ``prompt`` written straight after ``label:``."""
    pattern = re.compile(rf"^{re.escape(label)}:(\{{.*\}})$", re.MULTILINE)
    return [json.loads(match) for match in pattern.findall(prompt)]


@dataclass(frozen=True)
class Passage:
    """What a knowledge-base search hit offers a template."""

    text: str
    chunk_id: str


PASSAGES = [
    Passage(
        "## Listen before you post\nA leader who follows customers, staff and peers for two "
        "weeks learns which tone works on each platform before saying anything. " * 3,
        "guide-1:0",
    ),
    Passage("Internal networks reward short, specific posts that credit a named team.", "g-2:4"),
    Passage(
        "A like from a director reads as an endorsement to the people who report to them.", "g-3:1"
    ),
]
HITS = [
    {"text": p.text, "title": "Listening", "heading": "Listening > Before you post"}
    for p in PASSAGES
]
"""Passages as ``ask`` sees them: search hits with a title and a heading path."""
NOTES = [
    {"author_role": "mentor", "text": "showed the listen-only settings on LinkedIn"},
    {"author_role": "mentee", "text": "surprised how much staff post about the restructure"},
    {"author_role": "mentee", "text": "SECRET worry about my own role", "private": True},
]
EXPERIMENTS = [
    {"title": "Save three posts a week", "owner": "mentee", "due_date": date(2025, 6, 1)},
]


@pytest.fixture(scope="module")
def topic() -> Topic:
    """A real topic from a built-in plugin, as a session would prepare it."""
    host = PluginHost(load_settings(), entry_points=False, folders=[])
    found = host.topic("social-media")
    assert found is not None
    return found


@pytest.fixture
def library() -> PromptLibrary:
    return PromptLibrary.load(load_settings())


def contexts(topic: Topic) -> dict[str, dict]:
    return {
        "icebreakers": {"topic": topic, "examples": topic.icebreakers, "count": 5},
        "questions": {
            "topic": topic, "examples": topic.questions, "passages": PASSAGES, "count": 5
        },
        "exercise": {"topic": topic, "examples": topic.exercises, "passages": PASSAGES},
        "tips": {
            "topic": topic, "examples": topic.mentee_tips, "passages": PASSAGES, "count": 3,
            "role": "mentee",
        },
        "session_summary": {"topic": topic, "notes": NOTES, "experiments": EXPERIMENTS},
        "recap": {"summary": "", "notes": NOTES, "experiments": EXPERIMENTS},
        "ask": {"question": "How do I listen before I post?", "passages": HITS, "topic": topic},
    }  # fmt: skip


def write_prompt(home: Path, name: str, text: str | bytes) -> Path:
    path = home / "prompts" / f"{name}.j2"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def prompt_plugin(root: Path, name: str = "house-style", **prompts: str) -> Path:
    """A topic pack that ships only prompts, through a ``[prompts]`` table."""
    folder = root / name
    (folder / "prompts").mkdir(parents=True)
    table = "".join(f'{key} = "prompts/{key}.md"\n' for key in prompts)
    (folder / "plugin.toml").write_text(
        f'[plugin]\nname = "{name}"\nversion = "1.0.0"\n\n[prompts]\n{table}'
    )
    for key, text in prompts.items():
        (folder / "prompts" / f"{key}.md").write_text(text)
    return folder


def load_with_plugins(plugins_dir: Path) -> PromptLibrary:
    settings = load_settings(plugins_dir=plugins_dir)
    return PromptLibrary.load(settings, PluginHost(settings, entry_points=False))


# --- the built-ins ------------------------------------------------------------------------------


def test_builtins_are_the_checkout_prompts_folder_one_template_per_task() -> None:
    folder = builtin_prompts_dir()
    assert folder == Path(__file__).resolve().parent.parent / "prompts"
    assert {p.stem for p in folder.glob("*.j2")} == BUILTINS
    for path in folder.glob("*.j2"):
        text = path.read_text()
        assert text.startswith("{#") and "Variables:" in text.split("#}")[0], path.name


def test_every_builtin_is_loaded_as_builtin(library: PromptLibrary) -> None:
    assert set(library.names()) == BUILTINS and not library.problems
    for name in BUILTINS:
        template = library.get(name)
        assert (template.origin, template.overrides) == ("builtin", [])
        assert template.path == builtin_prompts_dir() / f"{name}.j2"


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_renders_a_short_few_shot_prompt(
    name: str, library: PromptLibrary, topic: Topic
) -> None:
    context = contexts(topic)[name]
    prompt = library.render(name, **context)
    budget = CHAT_PROMPT_BUDGET if name in CHAT_ONLY else PROMPT_BUDGET
    assert len(prompt) < budget, f"{name}: {len(prompt)} characters"
    assert "Variables:" not in prompt and "{{" not in prompt and "{%" not in prompt
    assert "user:" not in prompt.lower() and "assistant:" not in prompt.lower()  # no chat roles
    assert not prompt.endswith(("\n", " ")), "the model's slot must be left open on the last line"
    assert prompt.endswith(f"\n{LABELS[name]}"), "it ends on the label the answer follows"
    if "topic" in context:
        assert f"Topic: {topic.title}\n" in prompt
    if name == "exercise":
        first = topic.exercises[0]
        (shown,) = [a for a in answers(prompt, "Exercise") if a["title"] == first.title]
        assert shown["goal"] == first.goal and shown["steps"][0].startswith(first.steps[0][:40])
        assert len(shown["steps"]) == min(len(first.steps), 4)
    elif name in SHOWN:
        listed = answers(prompt, "Examples")[-1]["items"]  # the last one is the topic's own
        for item, example in zip(listed, context["examples"][: SHOWN[name]], strict=True):
            assert example.startswith(item.removesuffix("...").removesuffix("."))  # or cut short
    if name in GUIDED:
        guides = [line for line in prompt.splitlines() if line.startswith("Guide: ## Listen")]
        assert guides and guides[0].startswith("Guide: ## Listen before you post A leader")
        assert PASSAGES[0].text not in prompt  # long passages are shortened,
        assert not guides[0].endswith("...")  # without an ellipsis the model would imitate
    if name in {"session_summary", "recap"}:
        assert NOTES[0]["text"] in prompt and EXPERIMENTS[0]["title"] in prompt
        assert "(due 2025-06-01)" in prompt
        assert "SECRET" not in prompt  # a private note never reaches a model


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_worked_example_is_a_valid_answer(
    name: str, library: PromptLibrary, topic: Topic
) -> None:
    """The few-shot answers are one-line JSON in exactly the shape the model must return, so
    the grammar-constrained continuation looks like them; keys in the schema's order."""
    contexts_ = [contexts(topic)[name]]
    if name == "tips":
        contexts_.append({**contexts_[0], "role": "mentor", "examples": topic.mentor_tips})
    for context in contexts_:
        prompt = library.render(name, **context)
        label = LABELS[name].removesuffix(":")
        if name == "tips":
            label = f"Tips for the {context['role']}"
        found = answers(prompt, label)
        assert len(found) >= 2, f"{name}: {len(found)} worked examples"
        for answer in found:
            assert list(answer) == list(DRAFTS[name].model_fields), answer
            DRAFTS[name].model_validate(answer)
        for listed in answers(prompt, "Examples"):
            Lines.model_validate(listed)
        # The embedded model's grammar allows no space before the "{": neither do the examples.
        assert f"{label}: {{" not in prompt and "Examples: {" not in prompt
        assert f"\n{label}:{{" in prompt


TRICKY = [
    'What\'s your "inbox zero" \\ backslash story – honestly?',
    "Line one\nline two\tand a <tag> & more?",
    "A very long first sentence that keeps going about calendars and channels and threads. "
    + "Then a second one that would push the item well past the limit for a shown example, "
    + "which the template cuts after the first sentence instead of in the middle of a word?",
]


@pytest.mark.parametrize("name", sorted(SHOWN))
def test_bank_items_are_shown_as_clean_json(name: str, library: PromptLibrary) -> None:
    """Apostrophes, quotes, dashes and backslashes survive as real characters (``tojson`` would
    write \\u0027 and \\u2013, which the model then imitates); whitespace is flattened and a
    long item is cut after a whole sentence."""
    topic = Topic(id="t", title="T", summary="S", objectives=["O"], questions=["Q?"])
    context = {**contexts(topic)[name], "topic": topic, "examples": TRICKY}
    prompt = library.render(name, **context)
    line = [x for x in prompt.splitlines() if x.startswith("Examples:")][-1]
    assert "\\u" not in line  # no escaped apostrophes or dashes
    assert json.dumps(TRICKY[0], ensure_ascii=False) in line  # "What's ... \\ ... – ..."
    assert json.loads(line.removeprefix("Examples:"))["items"] == [
        TRICKY[0],
        "Line one line two and a <tag> & more?",
        TRICKY[2].split(". ")[0] + ".",
    ]


def test_the_bank_exercise_is_clean_json_within_the_schema(library: PromptLibrary) -> None:
    exercise = Exercise(
        title="Don't \"panic\"", goal="Goal – with a dash.", minutes=90,
        steps=["One's step.", "Two\nlines.", "Three.", "Four.", "Five."],
    )  # fmt: skip
    topic = Topic(id="t", title="T", summary="S", exercises=[exercise])
    prompt = library.render("exercise", topic=topic, examples=topic.exercises, passages=[])
    (shown,) = [a for a in answers(prompt, "Exercise") if a["title"] == exercise.title]
    assert shown == {
        "title": exercise.title,
        "goal": exercise.goal,
        "minutes": 45,  # kept within what ExerciseDraft accepts
        "steps": ["One's step.", "Two lines.", "Three.", "Four."],
    }
    assert "\\u" not in prompt


def test_tips_follow_the_role_and_refuse_an_unknown_one(
    library: PromptLibrary, topic: Topic
) -> None:
    context = contexts(topic)["tips"]
    mentor = library.render("tips", **{**context, "role": "mentor", "examples": topic.mentor_tips})
    mentee = library.render("tips", **context)
    assert "junior mentor" in mentor and "junior mentor" not in mentee
    assert "senior mentee" in mentee and topic.mentor_tips[0][:30] in mentor
    with pytest.raises(PromptError, match=r"prompt 'tips' .*role must be 'mentor' or 'mentee'"):
        library.render("tips", **{**context, "role": "ceo"})


def test_recap_prefers_the_last_summary_to_the_notes(library: PromptLibrary) -> None:
    prompt = library.render(
        "recap", summary="The pair set up a listen-only feed.", notes=NOTES, experiments=[]
    )
    assert "Last session: The pair set up a listen-only feed.\n" in prompt
    assert NOTES[0]["text"] not in prompt and "- none\n" in prompt


# --- errors and the sandbox ---------------------------------------------------------------------


def test_a_missing_variable_names_the_template_and_the_variable(
    library: PromptLibrary, topic: Topic
) -> None:
    context = dict(contexts(topic)["questions"])
    del context["examples"]
    with pytest.raises(PromptError) as caught:
        library.render("questions", **context)
    message = str(caught.value)
    assert "prompt 'questions'" in message and "'examples' is undefined" in message
    assert "\n" not in message


def test_an_unknown_prompt_is_a_prompt_error(library: PromptLibrary) -> None:
    with pytest.raises(PromptError, match=r"unknown prompt 'nope' \(known: ask, exercise, "):
        library.get("nope")
    with pytest.raises(PromptError, match="unknown prompt 'nope'"):
        library.render("nope")


@pytest.mark.parametrize(
    "text",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ topic.__init__.__globals__ }}",
        "{{ examples.append('injected') }}",
    ],
)
def test_the_sandbox_blocks_escapes_and_mutation(coach_home: Path, text: str) -> None:
    path = write_prompt(coach_home, "escape", f"Start\n{text}\n")
    library = PromptLibrary.load(load_settings())
    examples = ["kept as is"]
    with pytest.raises(PromptError) as caught:
        library.render("escape", topic=Topic(id="t", title="T", summary="S"), examples=examples)
    message = str(caught.value)
    assert message.startswith(f"prompt 'escape' (user: {path}, line 2)")
    assert "sandbox" in message or "unsafe" in message
    assert examples == ["kept as is"]


def test_a_runtime_error_in_a_filter_becomes_a_prompt_error(coach_home: Path) -> None:
    write_prompt(coach_home, "bad_filter", "{{ count | join(',') }}")
    library = PromptLibrary.load(load_settings())
    with pytest.raises(PromptError, match=r"prompt 'bad_filter' .*TypeError"):
        library.render("bad_filter", count=3)


# --- precedence ---------------------------------------------------------------------------------


def test_user_beats_plugin_beats_builtin_and_records_what_it_replaced(
    coach_home: Path, tmp_path: Path
) -> None:
    plugins = tmp_path / "plugins"
    prompt_plugin(
        plugins,
        icebreakers="PLUGIN icebreakers for {{ topic.title }}",
        questions="PLUGIN questions",
        closing="PLUGIN closing for {{ topic.title }}",
    )
    user_file = write_prompt(coach_home, "icebreakers", "USER icebreakers for {{ topic.title }}\n")
    library = load_with_plugins(plugins)
    assert not library.problems

    icebreakers = library.get("icebreakers")
    assert (icebreakers.origin, icebreakers.path) == ("user", user_file)
    assert icebreakers.overrides == ["plugin:house-style", "builtin"]
    topic = Topic(id="t", title="Video calls", summary="S")
    assert library.render("icebreakers", topic=topic) == "USER icebreakers for Video calls\n"

    questions = library.get("questions")
    assert (questions.origin, questions.path, questions.overrides) == (
        "plugin:house-style", None, ["builtin"]
    )  # fmt: skip
    assert library.render("questions") == "PLUGIN questions"

    closing = library.get("closing")
    assert (closing.origin, closing.overrides) == ("plugin:house-style", [])
    assert library.get("exercise").origin == "builtin"
    assert set(library.names()) == BUILTINS | {"closing"}


def test_without_a_host_plugin_prompts_are_not_consulted(tmp_path: Path) -> None:
    prompt_plugin(tmp_path / "plugins", icebreakers="PLUGIN")
    library = PromptLibrary.load(load_settings(plugins_dir=tmp_path / "plugins"))
    assert library.get("icebreakers").origin == "builtin"


def test_a_broken_user_template_is_reported_and_the_builtin_stays(
    coach_home: Path, library: PromptLibrary, topic: Topic
) -> None:
    path = write_prompt(coach_home, "questions", "Questions\n\n{% for q in examples %}\n{{ q }")
    reloaded = PromptLibrary.load(load_settings())
    (problem,) = reloaded.problems
    assert problem.startswith(f"prompt 'questions' (user: {path}, line 4): ")
    assert problem.endswith("not used, the builtin version stays in force")
    assert reloaded.get("questions").origin == "builtin"
    context = contexts(topic)["questions"]
    assert reloaded.render("questions", **context) == library.render("questions", **context)


def test_a_broken_user_template_over_a_plugin_keeps_the_plugin_version(
    coach_home: Path, tmp_path: Path
) -> None:
    prompt_plugin(tmp_path / "plugins", recap="PLUGIN recap")
    write_prompt(coach_home, "recap", "{{ summary | no_such_filter }}")
    library = load_with_plugins(tmp_path / "plugins")
    (problem,) = library.problems
    assert "no_such_filter" in problem and "line 1" in problem
    assert problem.endswith("the plugin:house-style version stays in force")
    assert library.get("recap").origin == "plugin:house-style"


def test_a_broken_plugin_prompt_is_reported_and_the_builtin_stays(tmp_path: Path) -> None:
    prompt_plugin(tmp_path / "plugins", tips="{% if role %}never closed")
    library = load_with_plugins(tmp_path / "plugins")
    (problem,) = library.problems
    assert problem.startswith("prompt 'tips' (plugin:house-style, line 1): ")
    assert library.get("tips").origin == "builtin"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"\xff\xfeQ\x00u\x00", "not UTF-8 text"), (b"  \n", "empty file")],
)
def test_unusable_user_files_are_reported(coach_home: Path, content: bytes, reason: str) -> None:
    path = write_prompt(coach_home, "exercise", content)
    library = PromptLibrary.load(load_settings())
    assert library.problems == [
        f"prompt 'exercise' (user: {path}): {reason}"
        + ("" if reason == "empty file" else " (byte 0)")
        + "; not used, the builtin version stays in force"
    ]
    assert library.get("exercise").origin == "builtin"


def test_an_unreadable_user_file_is_reported(coach_home: Path) -> None:
    path = write_prompt(coach_home, "recap", "fine")
    path.unlink()
    path.symlink_to(coach_home / "missing.j2")  # a broken link: reading it fails
    library = PromptLibrary.load(load_settings())
    (problem,) = library.problems
    assert f"(user: {path}): cannot read: " in problem
    assert library.get("recap").origin == "builtin"


def test_user_files_that_are_not_prompts_are_ignored_or_reported(coach_home: Path) -> None:
    write_prompt(coach_home, ".icebreakers", "hidden editor file")
    (coach_home / "prompts" / "notes.txt").write_text("not a template")
    bad = write_prompt(coach_home, "two words", "x")
    library = PromptLibrary.load(load_settings())
    assert library.problems == [f"user prompt {bad}: 'two words' is not a simple name (letters, "
                                "digits, _ or -)"]  # fmt: skip
    assert set(library.names()) == BUILTINS


def test_a_new_user_prompt_with_a_syntax_error_is_simply_unavailable(coach_home: Path) -> None:
    write_prompt(coach_home, "closing", "{% endif %}")
    library = PromptLibrary.load(load_settings())
    assert library.problems[0].endswith("not used, it is not available")
    assert "closing" not in library


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_list_json_shows_origins_overrides_and_warnings(coach_home: Path) -> None:
    user_file = write_prompt(coach_home, "icebreakers", "USER {{ topic.title }}")
    write_prompt(coach_home, "tips", "{% if %}")
    result = run_coach("prompts", "list", "--json")
    assert result.returncode == 0, result.stderr
    prompts = {p["name"]: p for p in json.loads(result.stdout)}
    assert set(prompts) == BUILTINS
    assert prompts["icebreakers"] == {
        "name": "icebreakers", "origin": "user", "path": str(user_file), "overrides": ["builtin"]
    }  # fmt: skip
    assert prompts["tips"]["origin"] == "builtin"
    assert prompts["tips"]["path"] == str(builtin_prompts_dir() / "tips.j2")
    (warning,) = [line for line in result.stderr.splitlines() if "prompt 'tips'" in line]
    assert warning.startswith("warning: ") and "line 1" in warning
    table = run_coach("prompts", "list")
    assert table.returncode == 0 and "icebreakers" in table.stdout and "user" in table.stdout


def test_cli_show_prints_the_template_alone_and_its_origin_on_stderr() -> None:
    result = run_coach("prompts", "show", "icebreakers")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (builtin_prompts_dir() / "icebreakers.j2").read_text()
    assert "prompt 'icebreakers' from builtin: " in result.stderr


def test_cli_show_an_unknown_prompt_exits_1() -> None:
    result = run_coach("prompts", "show", "no-such-prompt")
    assert result.returncode == 1 and result.stdout == ""
    assert "unknown prompt 'no-such-prompt'" in result.stderr
    assert "Traceback" not in result.stderr
