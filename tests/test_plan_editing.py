"""Editing a plan before the session: pins, removal, order, edits, one new item, saving.

The model is a scripted ``FunctionModel`` here (what Coach does with an answer, not what a model
writes); the knowledge base is off except in the tests that say ``synced``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

TOPIC = "linkedin-presence"
FRESH_QUESTION = "What would you want a new hire to learn about you from your LinkedIn profile?"


pytestmark = pytest.mark.usefixtures("no_real_models")


@pytest.fixture
def pair_id(db) -> int:
    from coach.sessions.service import add_pair, add_person

    mentor = add_person(db, {"name": "Ada", "role": "mentor"})
    mentee = add_person(
        db, {"name": "Sam", "role": "mentee", "growth_areas": ["LinkedIn"], "goals": []}
    )
    return add_pair(db, mentor, mentee)


def scripted(answer: Callable[[str], list[str]], calls: list[str] | None = None):
    """A FunctionModel answering ``{"items": answer(prompt)}``."""
    from pydantic_ai.messages import ModelResponse, TextPart, UserPromptPart
    from pydantic_ai.models.function import FunctionModel
    from pydantic_ai.profiles import ModelProfile

    def respond(messages, info) -> ModelResponse:
        parts = [p for m in messages for p in getattr(m, "parts", [])]
        prompt = next(p.content for p in parts if isinstance(p, UserPromptPart))
        if calls is not None:
            calls.append(prompt)
        return ModelResponse(parts=[TextPart(json.dumps({"items": answer(prompt)}))])

    profile = ModelProfile(
        supports_json_schema_output=True, default_structured_output_mode="native"
    )
    return FunctionModel(respond, model_name="scripted", profile=profile)


def make_generator(answer: Callable[[str], list[str]], calls: list[str] | None = None):
    from coach.prepare.generate import Generator
    from coach.settings import load_settings

    return Generator(model=scripted(answer, calls), label="scripted", settings=load_settings())


def prompts(host):
    from coach.prepare.prompts import PromptLibrary
    from coach.settings import load_settings

    return PromptLibrary.load(load_settings(), host)


def generate(db, host, pair_id: int, **options):
    from coach.prepare.editing import generate_for_pair

    return generate_for_pair(db, None, host, pair_id=pair_id, topic_id=TOPIC, **options)


def texts(items) -> list[str]:
    return [item.text for item in items]


# --- pins, removal, order, edits ------------------------------------------------------------


def test_pinned_items_keep_their_place_when_the_plan_is_generated_again(db, host, pair_id) -> None:
    from coach.prepare.editing import toggle_pin

    first = generate(db, host, pair_id, seed=0)
    plan = toggle_pin(first, "questions", 3)
    plan = toggle_pin(plan, "icebreakers", 0)
    plan = toggle_pin(plan, "exercise", 1)
    again = generate(db, host, pair_id, seed=1, keep=plan)

    assert again.questions[3] == plan.questions[3] and again.questions[3].pinned
    assert again.icebreakers[0] == plan.icebreakers[0]
    assert again.exercise == plan.exercise  # an exercise with a pinned step stays whole
    assert len(again.questions) == len(first.questions)
    assert texts(again.questions).count(plan.questions[3].text) == 1
    unpinned = [t for i, t in enumerate(texts(again.icebreakers)) if i != 0]
    assert unpinned != texts(first.icebreakers)[1:]  # the rest is a fresh selection
    assert again.seed == 1
    fresh = generate(db, host, pair_id, seed=1)  # without keep nothing is pinned
    assert not any(item.pinned for _, item in fresh.items())


def test_remove_stops_at_the_minimum_the_stored_plan_needs(db, host, pair_id) -> None:
    from coach.prepare.editing import remove_item
    from coach.sessions.errors import InputError

    plan = generate(db, host, pair_id)
    assert len(plan.questions) == 6
    gone = plan.questions[2].text
    plan = remove_item(plan, "questions", 2)
    assert len(plan.questions) == 5 and gone not in texts(plan.questions)
    with pytest.raises(InputError, match="at least 5"):
        remove_item(plan, "questions", 0)
    tips = len(plan.mentor_tips)
    assert len(remove_item(plan, "mentor_tips", 0).mentor_tips) == tips - 1
    with pytest.raises(InputError, match="no question 9"):
        remove_item(plan, "questions", 8)


def test_move_reorders_within_a_section_and_clamps_at_its_ends(db, host, pair_id) -> None:
    from coach.prepare.editing import move_item

    plan = generate(db, host, pair_id)
    before = texts(plan.questions)
    moved, index = move_item(plan, "questions", 0, +1)
    assert index == 1 and texts(moved.questions) == [before[1], before[0], *before[2:]]
    same, index = move_item(moved, "questions", 1, -5)
    assert index == 0 and texts(same.questions) == before
    last = len(before) - 1
    unchanged, index = move_item(plan, "questions", last, +1)
    assert unchanged is plan and index == last
    assert moved.icebreakers == plan.icebreakers


def test_an_edited_item_keeps_its_provenance_and_says_it_was_edited(db, host, pair_id) -> None:
    from coach.prepare.editing import edit_item
    from coach.sessions.errors import InputError

    plan = generate(db, host, pair_id)
    original = plan.questions[0]
    edited = edit_item(plan, "questions", 0, "  Which post would you **never** write?  ")
    item = edited.questions[0]
    assert item.text == "Which post would you **never** write?"
    assert item.provenance == original.provenance and item.edited
    assert f"[{original.provenance}, edited]" in edited.to_markdown(explain=True)
    assert edit_item(plan, "questions", 0, original.text) is plan  # no change, no mark
    with pytest.raises(InputError):
        edit_item(plan, "questions", 0, "   ")


# --- one new item ---------------------------------------------------------------------------


def test_without_a_model_a_new_item_is_the_next_unused_one_from_the_bank(db, host, pair_id) -> None:
    from coach.prepare.editing import regenerate_item

    plan = generate(db, host, pair_id)
    bank = host.topic(TOPIC).questions
    held = set(texts(plan.questions))
    result = regenerate_item(plan, "questions", 1, host=host, kb=None)
    new = result.plan.questions[1]
    assert result.replaced and "from the bank" in result.message
    assert new.text == next(q for q in bank if q not in held)
    assert new.text not in held and new.provenance == "plugin:social-media"
    assert texts(result.plan.questions)[:1] == texts(plan.questions)[:1]

    # Asking again moves on (replaced texts are skipped); after the topic's bank, other
    # topics' banks follow, and nothing ever repeats an item of the plan.
    current, replaced = result.plan, [plan.questions[1].text]
    for _ in range(len(bank) - len(held)):
        replaced.append(current.questions[1].text)
        current = regenerate_item(current, "questions", 1, host=host, kb=None, skip=replaced).plan
        assert len(set(texts(current.questions))) == len(current.questions)
    assert current.questions[1].text not in bank and current.questions[1].text not in replaced
    assert current.questions[1].provenance == "plugin:social-media"  # the same plugin first


def test_when_nothing_new_is_left_the_plan_stays_and_the_message_says_so(db, host, pair_id) -> None:
    from coach.prepare.editing import regenerate_item
    from coach.sessions.errors import InputError

    plan = generate(db, host, pair_id)
    result = regenerate_item(plan, "mentor_tips", 0, host=host, kb=None)
    assert not result.replaced and result.plan == plan  # every bank tip is in the plan already
    assert "no new mentor tip is left" in result.message and "not loaded" in result.message
    with pytest.raises(InputError, match="belong together"):
        regenerate_item(plan, "exercise", 0, host=host, kb=None)


def test_with_a_model_the_new_item_is_gated_and_a_refused_one_falls_back(db, host, pair_id) -> None:
    from coach.prepare.editing import regenerate_item

    plan = generate(db, host, pair_id)
    calls: list[str] = []
    good = make_generator(lambda prompt: [FRESH_QUESTION], calls)
    result = regenerate_item(
        plan, "questions", 2, host=host, kb=None, generator=good, prompts=prompts(host)
    )
    item = result.plan.questions[2]
    assert result.replaced and item.text == FRESH_QUESTION
    assert item.provenance == "model:scripted" and "scripted" in result.message
    assert len(calls) == 1 and "question" in calls[0].lower()

    # A copy of an item already in the plan, and a question without "?": both refused.
    copy = plan.questions[0].text
    bad = make_generator(lambda prompt: [copy, "Tell me about your LinkedIn profile"])
    result = regenerate_item(
        plan, "questions", 2, host=host, kb=None, generator=bad, prompts=prompts(host)
    )
    fallback = result.plan.questions[2]
    assert result.replaced and "refused" in result.message and "from the bank" in result.message
    assert fallback.provenance.startswith("plugin:") and fallback.text not in texts(plan.questions)
    reasons = [r.reason for r in result.plan.rejections]
    assert len(reasons) == 2 and "duplicate" in reasons[0] and "?" in reasons[1]


def test_a_model_that_raises_falls_back_to_the_bank(db, host, pair_id) -> None:
    from coach.prepare.editing import regenerate_item

    def broken(prompt: str) -> list[str]:
        raise RuntimeError("the model fell over")

    plan = generate(db, host, pair_id)
    result = regenerate_item(
        plan,
        "icebreakers",
        0,
        host=host,
        kb=None,
        generator=make_generator(broken),
        prompts=prompts(host),
    )
    assert result.replaced and result.plan.icebreakers[0].provenance.startswith("plugin:")
    assert "refused" in result.message and "fell over" in result.message


def test_generating_with_a_model_reports_each_section(db, host, pair_id) -> None:
    steps: list[tuple[str, int, int]] = []
    generator = make_generator(lambda prompt: [FRESH_QUESTION] if "?" in prompt else [])
    plan = generate(
        db,
        host,
        pair_id,
        generator=generator,
        prompts=prompts(host),
        progress=lambda what, done, total: steps.append((what, done, total)),
    )
    assert steps[0] == ("Composing the grounded plan", 0, 1)
    asked = [what for what, _, _ in steps[1:]]
    assert asked[:2] == [
        "Asking scripted for icebreakers",
        "Asking scripted for discussion questions",
    ]
    assert [done for _, done, _ in steps[1:]] == list(range(1, len(asked) + 1))
    assert {total for _, _, total in steps[1:]} == {len(asked) + 1}
    assert plan.backend == "scripted"
    assert any(item.provenance == "model:scripted" for _, item in plan.items())


# --- saving ---------------------------------------------------------------------------------


def test_save_stores_on_the_next_session_and_preparing_again_reuses_it(db, host, pair_id) -> None:
    from coach.prepare.editing import edit_item, open_preparation, save_plan, toggle_pin
    from coach.prepare.plan import SessionPlan
    from coach.prepare.service import prepare_session
    from coach.sessions.models import Session

    plan = generate(db, host, pair_id)
    plan = toggle_pin(edit_item(plan, "questions", 0, "Our own question?"), "questions", 0)
    session_id = save_plan(db, pair_id, plan, host=host)
    with db.read() as orm:
        rows = orm.query(Session).filter_by(pair_id=pair_id).all()
        assert [s.id for s in rows] == [session_id]  # no second session scheduled
        assert rows[0].status == "prepared" and rows[0].topic_ids == [TOPIC]
        assert SessionPlan.model_validate(rows[0].plan) == plan
    assert prepare_session(db, None, host, topic_id=TOPIC, pair_id=pair_id) == plan
    opened = open_preparation(db, pair_id)
    assert opened.plan == plan and opened.topic_id == TOPIC and opened.session_number == 1


def test_save_schedules_a_session_when_the_pair_has_none(db, host, pair_id) -> None:
    from coach.prepare.editing import open_preparation, save_plan
    from coach.prepare.service import prepare_session

    assert open_preparation(db, pair_id).session_number is None  # opening schedules nothing
    plan = prepare_session(db, None, host, topic_id=TOPIC)  # no pair: nothing stored
    session_id = save_plan(db, pair_id, plan)
    opened = open_preparation(db, pair_id)
    assert opened.plan == plan and opened.session_number == 1 and session_id


def test_plans_stored_before_pins_existed_still_load(db, host, pair_id) -> None:
    from coach.prepare.plan import SessionPlan

    plan = generate(db, host, pair_id)
    stored = plan.model_dump(mode="json")
    for section in ("icebreakers", "questions", "mentor_tips", "mentee_tips"):
        for item in stored[section]:
            del item["pinned"], item["edited"]
    for step in stored["exercise"]["steps"]:
        del step["pinned"], step["edited"]
    old = SessionPlan.model_validate(stored)
    assert old == plan and not any(item.pinned or item.edited for _, item in old.items())


# --- choosing the topic ---------------------------------------------------------------------


def test_topic_choices_rank_the_mentees_wishes_first_and_list_every_topic(
    db, host, pair_id
) -> None:
    from coach.prepare.editing import topic_choices
    from coach.sessions.models import Session

    with db.transaction() as orm:
        orm.add(Session(pair_id=pair_id, number=1, topic_ids=["social-media"], status="completed"))
    choices = topic_choices(db, host, pair_id, kb=None)
    assert sorted(c.topic_id for c in choices) == sorted(host.topics)
    assert choices[0].topic_id == TOPIC and choices[0].suggested
    assert choices[0].reason == "matches the mentee's growth area 'LinkedIn'"
    assert choices[-1].topic_id == "social-media" and choices[-1].covered
    assert not any(c.suggested for c in choices[1:])  # nothing else shares a word with "LinkedIn"


@pytest.mark.slow
def test_with_knowledge_a_new_passage_is_an_unused_one_with_its_source(synced, db, pair_id):
    from coach.prepare.editing import generate_for_pair, regenerate_item, topic_choices

    _, kb, host = synced
    plan = generate_for_pair(db, kb, host, pair_id=pair_id, topic_id=TOPIC)
    held = {item.provenance for _, item in plan.items()}
    result = regenerate_item(plan, "passages", 0, host=host, kb=kb)
    new = result.plan.passages[0]
    assert result.replaced and "knowledge base" in result.message
    assert new.provenance.startswith("knowledge:") and new.provenance not in held
    assert new.source and new.source.endswith(".md")
    choices = topic_choices(db, host, pair_id, kb=kb)
    assert next(c.topic_id for c in choices if c.suggested) == TOPIC
    assert all(c.score is not None and c.score > 0 for c in choices if c.suggested)
