"""Quality gates for generated plan items: form, loops, leaks, duplicates and relevance."""

from __future__ import annotations

import numpy as np
import pytest

from coach.prepare.gates import (
    DUPLICATE_THRESHOLD,
    RELEVANCE_THRESHOLD,
    SECTIONS,
    Gates,
    bank_texts,
    clean,
)

MODEL = "model:gemma-3-270m"
OFF_TOPIC = [
    "What is your favourite pizza topping?",
    "How do I reset my router password?",
    "What is the capital of France?",
]
"""Off topic for every built-in topic (they score at most 0.16; see the gates' calibration)."""
PARAPHRASE = (
    "How could you find out what your teams already use AI tools for, officially or unofficially?"
)
"""A paraphrase of an ai-tools bank question (cosine 0.84)."""


@pytest.fixture(scope="module")
def topics(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The built-in topics by id, loaded once (built-in plugins only, in a private COACH_HOME)."""
    from coach.plugins.host import PluginHost
    from coach.settings import load_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACH_HOME", str(tmp_path_factory.mktemp("gates-home")))
        host = PluginHost(load_settings(), entry_points=False, folders=[])
    found = {tid: c.value for tid, c in host.topics.items()}
    assert len(found) >= 12, sorted(found)
    return found


@pytest.fixture(scope="module")
def question_prompt(topics: dict, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The real rendered few-shot prompt for new ai-tools questions."""
    from coach.prepare.prompts import PromptLibrary
    from coach.settings import load_settings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COACH_HOME", str(tmp_path_factory.mktemp("prompts-home")))
        library = PromptLibrary.load(load_settings())
    topic = topics["ai-tools"]
    return library.render("questions", topic=topic, examples=topic.questions, passages=[], count=4)


@pytest.fixture(scope="module")
def embed(torch_embedder):
    """The real embedder with a memo, so texts several tests share are embedded once."""
    memo: dict[str, np.ndarray] = {}

    def cached(texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in memo]
        if missing:
            memo.update(zip(missing, torch_embedder.embed(missing), strict=True))
        return np.stack([memo[t] for t in texts])

    return cached


def plain(**kwargs) -> Gates:
    """Gates without an embedder or topic: only form and exact-duplicate rules apply."""
    return Gates(topic_text=kwargs.pop("topic_text", ""), bank=kwargs.pop("bank", []), **kwargs)


def reasons(gates: Gates, section: str, texts: list[str], **kwargs) -> list[str]:
    accepted, rejected = gates.check(section, texts, provenance=MODEL, **kwargs)
    assert len(accepted) + len(rejected) == len(texts)
    return [r.reason for r in rejected]


def one_reason(section: str, text: str, **kwargs) -> str:
    found = reasons(plain(), section, [text], **kwargs)
    assert len(found) == 1, f"{text!r} was accepted"
    return found[0]


def accepted(section: str, text: str, **kwargs) -> bool:
    return not reasons(plain(), section, [text], **kwargs)


# --- form ------------------------------------------------------------------------------------


def test_length_bounds_per_section():
    assert one_reason("questions", "Why AI?") == "too short (7 chars, at least 15)"
    assert accepted("questions", "Why use AI at all?")
    long_question = "How " + "often " * 40 + "do you check?"
    assert one_reason("questions", long_question).startswith("too long (")
    assert one_reason("mentor_tips", "Be kind.") == "too short (8 chars, at least 20)"
    assert accepted("mentor_tips", "Let them type; stay patient.")
    assert accepted("exercise", "Open the app.")
    assert one_reason("summary", "They met.") == "too short (9 chars, at least 40)"
    summary = "The pair summarised a report with the assistant and checked it against the source."
    assert accepted("summary", summary)
    assert one_reason("summary", summary * 15).startswith("too long (")


def test_questions_must_end_with_a_question_mark_icebreakers_need_not():
    text = "Tell me which report you read most carefully this month"
    assert one_reason("questions", text) == "a question must end with '?'"
    assert accepted("questions", text + "?")
    assert accepted("questions", "What does a reply mean to you: 'read' or 'agreed?'")
    # Bank icebreakers are not all questions ("Describe your commute ... in five words.").
    assert accepted("icebreakers", "Describe your first ever work laptop in three words.")


def test_an_answer_cut_off_mid_sentence_is_refused_except_experiment_titles():
    cut = "Record your own first take in front of them, so the bar is visibly low and if you"
    assert one_reason("mentor_tips", cut) == "ends mid-sentence"
    assert one_reason("icebreakers", "Describe your first ever work laptop in three") == (
        "ends mid-sentence"
    )
    assert accepted("mentor_tips", cut + " want, laugh about it.")
    assert accepted("experiments", "Post about the team launch once a week")


def test_empty_wordless_and_control_characters():
    assert one_reason("questions", "   ") == "empty"
    assert one_reason("questions", "- 1. ") == "empty"
    assert one_reason("icebreakers", "?! ... ?! ... ?!") == "no words"
    assert one_reason("questions", "What do you\x1b[31m use daily?") == "control character U+001B"
    assert one_reason("questions", "What do you use\x00 daily?") == "control character U+0000"
    # Ordinary line breaks and tabs are whitespace, collapsed by cleaning.
    found, rejected = plain().check("questions", ["What do you\n use\tdaily?"], provenance=MODEL)
    assert (found, rejected) == (["What do you use daily?"], [])


def test_cleaning_strips_bullets_numbering_quotes_and_own_label():
    assert clean('  5. "How do you take notes?"  ', "questions") == "How do you take notes?"
    assert clean("- **Which app do you open first?**", "icebreakers") == (
        "Which app do you open first?"
    )
    assert clean("“What’s on your desk?”", "icebreakers") == "What’s on your desk?"
    assert clean("Question: Who reads your posts?", "questions") == "Who reads your posts?"
    assert clean("Summary: The pair met.", "summary") == "The pair met."
    # Quotes that do not wrap the whole text stay, as do apostrophes.
    assert clean("'Final' means done, not 'almost'", "icebreakers") == (
        "'Final' means done, not 'almost'"
    )
    assert clean("'Don't panic' is good advice", "icebreakers") == "'Don't panic' is good advice"
    found, _ = plain().check("questions", ["3) 'Who reads your posts?'"], provenance=MODEL)
    assert found == ["Who reads your posts?"]


# --- loops and leaks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Which tool do you use the the the most at work?", "'the the the'"),
        (
            "How do you share and the team and the team and the team agrees?",
            "'and the team' 3 times",
        ),
        ("Yes yes no yes yes no yes yes maybe yes?", "'yes' is 7 of 10 words"),
        ("Which tool do you like best!!!!!!!?", "'!!!!!!!'"),
    ],
)
def test_repetition_loops_are_refused(text: str, shown: str):
    assert one_reason("questions", text) == f"repetition loop: {shown}"


def test_repetition_rules_leave_ordinary_text_alone():
    # Real bank items: a repeated pair of words, a repeated three-word phrase twice.
    assert accepted(
        "icebreakers",
        "Name one thing you miss about full-time office life and one thing you don't.",
    )
    assert accepted("questions", "How much is 100000 in your budget, and who signs it off?")


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("Topic: AI tools. What do you use most?", "prompt text leaked: 'Topic:'"),
        ("What do you use most? Questions (7):", "prompt text leaked: 'Questions (7'"),
        ("Which report matters most? Guide: read it.", "prompt text leaked: 'Guide:'"),
        ('{"items": ["What do you use most?"]}', "prompt text leaked: '{\"items\"'"),
        ("What do you use most?<end_of_turn>", "prompt text leaked: '<end_of_turn>'"),
        ("What do you use most? 5. Which one next?", "several items run together: '? 5. Which'"),
    ],
)
def test_leaked_prompt_scaffolding_is_refused(text: str, leaked: str):
    assert one_reason("questions", text) == leaked


def test_labels_a_bank_uses_are_not_leaks():
    assert accepted("icebreakers", "Mentor: what's one thing you used an AI assistant for?")
    assert accepted("exercise", "Ask: 'What important points did you leave out?' Then compare.")
    assert accepted("questions", "What did you learn about AI from the board's last paper?")


def test_eight_words_copied_from_the_prompt_are_refused(question_prompt: str):
    # The built-in template's own few-shot example, and a bank question shown in the prompt.
    copied = "Which of your recurring meetings would your team miss if it disappeared?"
    assert copied in question_prompt
    assert one_reason("questions", copied, prompt=question_prompt) == (
        "copied from the prompt: 'which of your recurring meetings would your team'"
    )
    bank_start = "Where in your week do you spend time turning long material into short material"
    assert bank_start in question_prompt
    reason = one_reason("questions", bank_start + " for your board?", prompt=question_prompt)
    assert reason.startswith("copied from the prompt: 'where in your week")
    # Seven shared words in a row are not a copy; without the prompt nothing is copied.
    seven = "Which of your recurring meetings would your staff miss most?"
    assert accepted("questions", seven, prompt=question_prompt)
    assert accepted("questions", copied)
    # The prompt can also be set once on the Gates object.
    gates = plain(prompt=question_prompt)
    assert reasons(gates, "questions", [copied])[0].startswith("copied from the prompt")


def test_a_summary_may_copy_its_notes_but_not_the_examples():
    prompt = (
        "Session records. Each summary is two or three factual sentences.\n\n"
        "Topic: Shared calendars\nNotes:\n- mentor: showed sharing\nSummary: The mentor showed "
        "how to share a calendar with free and busy times only, and the mentee set it up.\n\n"
        "Topic: AI at work\nNotes:\n- mentor: the mentee summarised the quarterly board paper "
        "with the assistant and checked every bullet\nSummary:"
    )
    from_notes = (
        "The mentee summarised the quarterly board paper with the assistant and checked every "
        "bullet against the source."
    )
    assert accepted("summary", from_notes, prompt=prompt)
    from_example = (
        "The mentor showed how to share a calendar with free and busy times only, then left."
    )
    assert one_reason("summary", from_example, prompt=prompt).startswith("copied from the prompt")
    # A list section counts the whole prompt, notes included.
    assert one_reason("exercise", from_notes, prompt=prompt).startswith("copied from the prompt")


# --- exact duplicates ----------------------------------------------------------------------


def test_exact_duplicates_of_the_bank_ignore_case_and_punctuation():
    bank = ["How do you take notes in meetings: paper, laptop or memory?"]
    gates = plain(bank=bank)
    found = reasons(
        gates, "icebreakers", ["how do you take notes in meetings - paper, laptop, or memory?"]
    )
    assert found == [f"duplicate of the plugin bank: '{bank[0]}'"]
    assert not reasons(gates, "icebreakers", ["How do you take notes in workshops?"])


def test_exact_duplicates_within_a_call_and_across_sections():
    gates = plain()
    first = "Which meeting would you cancel tomorrow?"
    kept, rejected = gates.check(
        "icebreakers", [first, "1. WHICH meeting would you cancel tomorrow??"], provenance=MODEL
    )
    assert kept == [first]
    assert [r.reason for r in rejected] == [f"duplicate of an accepted icebreaker: '{first}'"]
    assert reasons(gates, "questions", [first]) == [
        f"duplicate of an accepted icebreaker: '{first}'"
    ]
    assert gates.accepted == [("icebreakers", first)]
    # A summary is not a list item: it is neither de-duplicated nor remembered.
    summary = "The pair looked at which meeting the mentee would cancel tomorrow and why."
    assert not reasons(gates, "summary", [summary])
    assert not reasons(gates, "summary", [summary])


def test_unknown_section_is_an_error():
    with pytest.raises(ValueError, match="unknown section 'quiz'"):
        plain().check("quiz", ["What?"], provenance=MODEL)


# --- with the real embedder ----------------------------------------------------------------


def test_a_paraphrase_of_the_bank_is_a_near_duplicate(topics: dict, embed):
    topic = topics["ai-tools"]
    original = (
        "What are your teams already using AI for, officially or not, and how would you find out?"
    )
    assert original in topic.questions
    gates = Gates.for_topic(topic, embed=embed)
    found = reasons(gates, "questions", [PARAPHRASE])
    assert len(found) == 1
    assert found[0].startswith("near-duplicate (cosine 0.8")
    assert "of the plugin bank: 'What are your teams already using AI for" in found[0]


def test_a_paraphrase_of_an_accepted_item_is_a_near_duplicate(topics: dict, embed):
    gates = Gates.for_topic(topics["remote-work"], embed=embed)
    first = "Which of your team's working hours overlap with yours on a normal week?"
    kept, rejected = gates.check(
        "questions",
        [first, "In a normal week, which of your team's working hours overlap with yours?"],
        provenance=MODEL,
    )
    assert kept == [first]
    assert len(rejected) == 1
    assert rejected[0].reason.startswith("near-duplicate (cosine 0.9")
    assert rejected[0].reason.endswith(f"of an accepted question: '{first}'")
    # ... and across sections: the next call compares with what this one accepted.
    again = reasons(
        gates, "icebreakers", ["On a normal week, whose working hours overlap with yours?"]
    )
    assert len(again) == 1 and "of an accepted question" in again[0]


def test_off_topic_items_are_refused(topics: dict, embed):
    gates = Gates.for_topic(topics["ai-tools"], embed=embed)
    found = reasons(gates, "questions", OFF_TOPIC)
    assert len(found) == len(OFF_TOPIC)
    for reason in found:
        assert reason.startswith("off topic (similarity ")
        assert reason.endswith(f" < {RELEVANCE_THRESHOLD:.2f})")


def test_fresh_on_topic_items_are_accepted(topics: dict, embed):
    gates = Gates.for_topic(topics["ai-tools"], embed=embed)
    fresh = {
        "icebreakers": [
            "Which AI tool have you heard colleagues talk about most this month?",
            "What would you ask an AI assistant to do first, if it never made mistakes?",
        ],
        "questions": [
            "Which reports do you read each week that an assistant could summarise for you first?",
            "How would you check whether an AI-drafted email says what you actually mean?",
            "What should your team never paste into an AI assistant, and who decides that?",
        ],
        "exercise": [
            "The mentee pastes a two-page policy into the assistant and asks for three key points.",
            "Together, compare each point with the original and mark anything it invented.",
            "The mentee rewrites the prompt to ask for sources and runs it again.",
        ],
        "mentor_tips": [
            "Let the mentee type every prompt themselves, even when it is slower than you.",
        ],
        "mentee_tips": [
            "Bring a real document you need to read this week, so the practice saves you time.",
        ],
    }
    for section, texts in fresh.items():
        kept, rejected = gates.check(section, texts, provenance=MODEL)
        assert kept == texts, [r.reason for r in rejected]
    assert len(gates.accepted) == sum(len(t) for t in fresh.values())


def test_without_an_embedder_only_form_and_exact_checks_apply(topics: dict):
    topic = topics["ai-tools"]
    gates = Gates.for_topic(topic, embed=None)
    kept, rejected = gates.check("questions", [PARAPHRASE, *OFF_TOPIC], provenance=MODEL)
    assert (kept, rejected) == ([PARAPHRASE, *OFF_TOPIC], [])
    found = reasons(gates, "questions", [topic.questions[0], "Why?"])
    assert found[0].startswith("duplicate of the plugin bank")
    assert found[1].startswith("too short")


def test_every_rejection_is_complete(topics: dict, embed, question_prompt: str):
    gates = Gates.for_topic(topics["ai-tools"], embed=embed)
    texts = [
        "Short?",
        "No question mark here at all",
        "What is the the the answer?",
        "Topic: AI. What next?",
        "Which of your recurring meetings would your team miss if it disappeared?",
        topics["ai-tools"].questions[5],
        "What is your favourite pizza topping?",
        PARAPHRASE,
        "What would you hand to an AI assistant first on Monday morning?",
    ]
    kept, rejected = gates.check("questions", texts, provenance=MODEL, prompt=question_prompt)
    assert kept == [texts[-1]]
    assert [r.text for r in rejected] == texts[:-1]
    starts = [
        "too short",
        "a question must end with",
        "repetition loop",
        "prompt text leaked",
        "copied from the prompt",
        "duplicate of the plugin bank",
        "off topic",
        "near-duplicate",
    ]
    for rejection, start in zip(rejected, starts, strict=True):
        assert rejection.section == "questions"
        assert rejection.provenance == MODEL
        assert rejection.reason.startswith(start), rejection.reason


def test_one_embedding_batch_per_call_topic_and_bank_once(topics: dict, embed):
    batches: list[list[str]] = []

    def counting(texts: list[str]) -> np.ndarray:
        batches.append(list(texts))
        return embed(texts)

    topic = topics["remote-work"]
    gates = Gates.for_topic(topic, embed=counting)
    gates.check("questions", ["Why?", topic.questions[0]], provenance=MODEL)
    assert batches == []  # nothing survived the cheap checks: nothing to embed
    first = ["Who on your team works the most unusual hours?", "What time zone is hardest?"]
    gates.check("questions", first, provenance=MODEL)
    assert len(batches) == 1
    assert batches[0][-2:] == first
    assert set(bank_texts(topic)) <= set(batches[0])
    second = ["Which tool keeps your remote team in touch best?"]
    gates.check("icebreakers", second, provenance=MODEL)
    assert batches[1:] == [second]


def test_a_blank_topic_skips_relevance_but_not_near_duplicates(embed):
    gates = Gates(
        topic_text="",
        bank=["Which meeting would you quietly cancel tomorrow if nobody would mind?"],
        embed=embed,
    )
    found = reasons(
        gates,
        "experiments",
        ["If nobody minded, which meeting would you quietly cancel tomorrow?", OFF_TOPIC[0]],
    )
    assert len(found) == 1 and found[0].startswith("near-duplicate")


# --- calibration sanity --------------------------------------------------------------------


def test_bank_questions_pass_relevance_for_their_own_topic(topics: dict, embed):
    """>= 90% of every built-in topic's questions are on topic; off-topic sentences never are."""
    for topic_id, topic in topics.items():
        # Relevance only: an empty bank, so the questions are not compared with themselves.
        gates = Gates(
            topic_text=f"{topic.title}. {topic.summary} {' '.join(topic.objectives)}",
            topic_parts=[topic.title, topic.summary, *topic.objectives],
            bank=[],
            embed=embed,
        )
        missed = reasons(gates, "questions", topic.questions)
        assert all(r.startswith("off topic") for r in missed), (topic_id, missed)
        assert len(missed) <= 0.1 * len(topic.questions), (topic_id, missed)
        refused = reasons(gates, "questions", OFF_TOPIC)
        assert len(refused) == len(OFF_TOPIC), (topic_id, refused)


def test_no_two_items_of_one_bank_count_as_near_duplicates(topics: dict, embed):
    for topic_id, topic in topics.items():
        gates = Gates(topic_text="", bank=[], embed=embed)
        found = reasons(gates, "exercise", [t[:300] for t in bank_texts(topic)])
        assert not [r for r in found if r.startswith("near-duplicate")], (topic_id, found)
    assert 0.75 < DUPLICATE_THRESHOLD < 0.9


def test_bank_items_pass_the_form_rules(topics: dict):
    """Hand-written items are what good looks like: none may trip a loop or leak rule."""
    for topic in topics.values():
        sections = {
            "icebreakers": topic.icebreakers,
            "questions": topic.questions,
            "mentor_tips": topic.mentor_tips,
            "mentee_tips": topic.mentee_tips,
            "exercise_goal": [e.goal for e in topic.exercises],
            "exercise": [s for e in topic.exercises for s in e.steps],
        }
        for section, texts in sections.items():
            fitting = [t for t in texts if len(t) <= SECTIONS[section].max_chars]
            assert len(fitting) >= len(texts) - 1, (section, topic.id)
            _, rejected = plain().check(section, fitting, provenance=MODEL)
            assert not rejected, (topic.id, [(r.text, r.reason) for r in rejected])
