"""Quality gates: every generated item is checked before it may enter a plan.

The embedded generator is a 270M base model. It repeats itself (within an answer, across
sections, and by handing back the plugin's own bank items), copies its few-shot examples word for
word, drifts off topic, falls into repetition loops and leaks the prompt's scaffolding
(``Topic:``, ``Questions (5):``, JSON keys). A plan must never show any of that, so each item
passes, in this order (cheap checks first; an item is refused for the first rule it breaks):

1. form: no control characters, a length that fits the section, a ``?`` at the end of a
   discussion question and a sentence ending elsewhere (an answer cut off by the schema's length
   limit stops mid-sentence), no repetition loop, no leaked prompt text (scaffolding labels, JSON,
   model control tokens, several numbered items run together, or 8+ consecutive words copied
   from the rendered prompt);
2. exact duplicates (case, punctuation and spacing ignored) of the plugin bank or of anything
   these gates already accepted, in this answer or an earlier section;
3. near-duplicates (cosine to the bank and to accepted items) and relevance (cosine to the
   topic), both only when an embedder is given.

Without an embedder (``embed=None``: no knowledge base) steps 1 and 2 still apply; there is no
semantic de-duplication and no relevance check, so paraphrases and off-topic items get through.

Every refused item becomes a :class:`~coach.prepare.plan.Rejection` with a reason a facilitator
can read (``coach prepare --explain``); the caller fills the gap from the grounded pool.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from coach.prepare.plan import Rejection

if TYPE_CHECKING:
    from coach.plugins.models import Topic

# Calibrated with the real all-MiniLM-L6-v2 (torch) on the 12 built-in topics of the 4 built-in
# plugins. The topic is represented by its full text (title, summary, objectives) *and* each of
# those parts on its own; an item's relevance is its best cosine to any of them. (Against the
# long full text alone, short items score much lower and overlap with off-topic ones: the bank
# questions' 5th percentile was 0.20, while "Buy cheap watches online now!" reached 0.19.)
# - Relevance, each bank item against its own topic, at 0.18: 99.2% of questions pass (every
#   topic keeps >= 90%; the one miss scores 0.17), 93.8% of icebreakers (light openers by
#   design; misses are like "Do you read the terms and conditions? Be honest."), 99.2% of tips
#   and 99.3% of exercise goals and steps. 22 clearly off-topic sentences, each scored against
#   all 12 topics: "What is your favourite pizza topping?" reaches at most 0.16, "How do I reset
#   my router password?" 0.15; 7 of the 264 pairs reach 0.18 (the highest, 0.22, is spam,
#   "Buy cheap watches online now!", against the LinkedIn topic). At 0.20 a tenth of one
#   topic's questions would fail; at 0.16 twice as many off-topic pairs pass.
# - Duplicates: across ~20,600 pairs of different items within one topic's bank the highest
#   cosine is 0.787 (only 2 pairs reach 0.75), while 13 of 15 hand-written paraphrases of bank
#   questions, icebreakers and tips score 0.82-0.98 against their original (the two misses,
#   0.61 and 0.73, reword the item substantially). 0.80 sits in that gap.
RELEVANCE_THRESHOLD = 0.18
DUPLICATE_THRESHOLD = 0.80

COPY_WORDS = 8
"""This many consecutive words shared with the prompt count as copying it."""


@dataclass(frozen=True)
class Rule:
    """Form rules and which later checks apply, for one section of a plan."""

    noun: str
    """What one item is called in reasons: ``question``, ``mentor tip``..."""
    min_chars: int
    max_chars: int
    question: bool = False
    """Must end with ``?`` (closing quotes or brackets after it are allowed)."""
    dedupe: bool = True
    """Checked against the bank and accepted items, and remembered once accepted."""
    relevance: bool = True
    """Checked against the topic (needs an embedder)."""
    inputs_in_prompt: bool = False
    """The prompt's last block is the material to work from (notes, last summary): copying from
    it is the job, so only the instructions and examples above it count as copying."""
    sentence: bool = True
    """Must end like a sentence (a model cut off by the schema's length limit does not)."""
    label: str = ""
    """A leading label naming the item itself (``Summary:``), removed when cleaning."""


SECTIONS: dict[str, Rule] = {
    # Bank icebreakers run 35-117 chars and 21 of 144 do not end with "?" ("Describe your
    # commute...", "Turn your camera round: ..."), so only discussion questions need one.
    "icebreakers": Rule("icebreaker", 15, 220, label="Icebreaker"),
    "questions": Rule("question", 15, 220, question=True, label="Question"),
    "exercise": Rule("exercise step", 10, 300, label=r"Step(?: \d{1,2})?"),
    "exercise_goal": Rule("exercise goal", 20, 300, label="Goal"),
    "mentor_tips": Rule("mentor tip", 20, 300, label="Tip"),
    "mentee_tips": Rule("mentee tip", 20, 300, label="Tip"),
    "summary": Rule(
        "summary", 40, 1200, dedupe=False, relevance=False, inputs_in_prompt=True, label="Summary"
    ),
    "recap": Rule(
        "recap", 40, 600, dedupe=False, relevance=False, inputs_in_prompt=True, label="Recap"
    ),
    "experiments": Rule(
        "experiment",
        10,
        220,
        relevance=False,
        inputs_in_prompt=True,
        sentence=False,  # a title, such as "Post once a week"
        label="Experiment",
    ),
}
"""Per-section rules. ``summary`` and ``recap`` get form, loop and leak checks only; generated
``experiments`` are also de-duplicated (against the pair's existing ones, passed as the bank)."""

_WORD = re.compile(r"\w+(?:'\w+)*")
_BULLET = re.compile(r"^(?:[-*•·–—▪►>]+\s*|\(?\d{1,2}[.):\]](?:\s+|$)|#+\s+)")
_QUOTES = (
    ("**", "**"),
    ('"', '"'),
    ("“", "”"),
    ("„", "“"),
    ("«", "»"),
    ("'", "'"),
    ("‘", "’"),
    ("`", "`"),
)
_QUESTION_END = re.compile(r"\?[\"'”’»)\]]*$")
_SENTENCE_END = re.compile(r"[.?!…:;][\"'”’»)\]]*$")
_LABEL = re.compile(
    r"(?<![\w-])(?:"
    r"(?:Topic|About|Goal|Guide|Summary|Notes|Agreed|Exercise|Minutes|Steps|Recap"
    r"|Last session|Open experiments):"
    r"|(?:Questions|Icebreakers|Tips for the (?:mentor|mentee)) \((?:\d|$)"
    r")"
)
_JSON = re.compile(r"[{\[]\s*\"(?:\w{1,20}\")?|\"\w{1,20}\"\s*:|\"\s*[}\]]")
_CONTROL_TOKEN = re.compile(
    r"</?(?:start_of_turn|end_of_turn|eos|bos|pad|unk|s)>|<\|[a-z_]{2,20}\|>", re.IGNORECASE
)
_RUN_TOGETHER = re.compile(r"[.?!]\s+\d{1,2}[.)]\s+\S+")
_REPEATED_CHARS = re.compile(r"(\S{1,10}?)\1{4,}")


def bank_texts(topic: Topic) -> list[str]:
    """Everything a topic's plugin already wrote: the bank generated items must not repeat."""
    bank = [*topic.icebreakers, *topic.questions, *topic.mentor_tips, *topic.mentee_tips]
    for exercise in topic.exercises:
        bank += [exercise.title, exercise.goal, *exercise.steps]
    return bank


def clean(text: str, section: str | None = None) -> str:
    """Whitespace collapsed; surrounding quotes, bullets, numbering and a leading label naming
    the item itself (``Question:``, ``Summary:``) removed."""
    text = " ".join(text.split())
    label = SECTIONS[section].label if section in SECTIONS else ""
    own = re.compile(rf"^(?:{label})\s*:\s*", re.IGNORECASE) if label else None
    for _ in range(4):
        before = text
        text = _unquote(text)
        text = _BULLET.sub("", text).strip()
        if own is not None:
            text = own.sub("", text).strip()
        if text == before:
            break
    return text


def _unquote(text: str) -> str:
    for opening, closing in _QUOTES:
        if len(text) <= len(opening) + len(closing):
            continue
        if not (text.startswith(opening) and text.endswith(closing)):
            continue
        inner = text[len(opening) : -len(closing)]
        if opening == "'":
            # Apostrophes sit inside words; another quote opening or closing means two quotes.
            nested = re.search(r"(?:^|\s)'|'(?:\s|$)", inner)
        else:
            nested = opening in inner or closing in inner
        if not nested:
            return inner.strip()
    return text


def normalise(text: str) -> str:
    """The key for exact duplicates: case, punctuation and whitespace ignored."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("’", "'"))


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return "'" + (text if len(text) <= limit else text[: limit - 3].rstrip() + "...") + "'"


def _printable(text: str) -> str:
    return "".join(f"\\x{ord(ch):02x}" if is_control(ch) else ch for ch in text)


def is_control(ch: str) -> bool:
    """Control, surrogate, private-use and bidirectional-override characters (tabs and newlines
    are text)."""
    if ch in "\t\n\r\f\v":
        return False
    if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069":
        return True  # bidirectional overrides: text that displays differently from what it is
    return unicodedata.category(ch) in ("Cc", "Cs", "Co")


def repetition(text: str) -> str | None:
    """What makes ``text`` look like a generation loop, or None."""
    for match in _REPEATED_CHARS.finditer(text):
        if not match.group(1).isdigit():
            return _quote(match.group(0), 30)
    words = _words(text)
    for a, b, c in zip(words, words[1:], words[2:], strict=False):
        if a == b == c:
            return f"'{a} {a} {a}'"
    trigrams = Counter(zip(words, words[1:], words[2:], strict=False))
    if trigrams:
        gram, count = trigrams.most_common(1)[0]
        if count >= 3:
            return f"'{' '.join(gram)}' {count} times"
    if len(words) >= 8:
        word, count = Counter(words).most_common(1)[0]
        if count / len(words) >= 0.4:
            return f"'{word}' is {count} of {len(words)} words"
    return None


def leak(text: str) -> str | None:
    """Prompt scaffolding, JSON or control tokens in ``text``, or None."""
    for pattern in (_LABEL, _JSON, _CONTROL_TOKEN):
        match = pattern.search(text)
        if match:
            return f"prompt text leaked: {_quote(match.group(0))}"
    match = _RUN_TOGETHER.search(text)
    if match:
        return f"several items run together: {_quote(match.group(0))}"
    return None


def _grams(words: list[str], n: int = COPY_WORDS) -> set[tuple[str, ...]]:
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def _examples_part(prompt: str) -> str:
    """The prompt without its last blank-line separated block (the case to work on)."""
    blocks = re.split(r"\n\s*\n", prompt.strip())
    return "\n\n".join(blocks[:-1])


def prompt_grams(prompt: str, inputs_in_prompt: bool) -> set[tuple[str, ...]]:
    """The prompt's runs of COPY_WORDS words; with ``inputs_in_prompt`` only its instructions
    and examples count (its last block is the material the answer is made from)."""
    return _grams(_words(_examples_part(prompt) if inputs_in_prompt else prompt))


def copied_run(text: str, grams: set[tuple[str, ...]]) -> str | None:
    """The first run of COPY_WORDS words of ``text`` found in ``grams`` (see prompt_grams)."""
    words = _words(text)
    for i in range(len(words) - COPY_WORDS + 1):
        run = tuple(words[i : i + COPY_WORDS])
        if run in grams:
            return " ".join(run)
    return None


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to length 1 (a zero row stays zero), so dot products are cosines."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


@dataclass
class Gates:
    """Checks generated items for one topic; remembers what it accepted so later sections
    dedupe against earlier ones. Use one object per plan (or per summary)."""

    topic_text: str
    """Title, summary and objectives of the topic; blank skips the relevance check."""
    bank: list[str]
    """The plugin's existing items for this topic, every bank (see :func:`bank_texts`)."""
    prompt: str = ""
    """The rendered prompt, for the copy check; ``check(prompt=...)`` overrides it per call."""
    embed: Callable[[list[str]], np.ndarray] | None = None
    """Sentence embedder (rows need not be unit length); None skips semantic checks."""
    relevance_threshold: float = RELEVANCE_THRESHOLD
    duplicate_threshold: float = DUPLICATE_THRESHOLD
    topic_parts: Sequence[str] = ()
    """The topic's title, summary and objectives one by one: an item's relevance is its best
    cosine to the full text or any part. Empty: the sentences of ``topic_text``."""
    accepted: list[tuple[str, str]] = field(default_factory=list, init=False)
    """``(section, text)`` of every accepted item that later items are de-duplicated against."""
    _keys: dict[str, tuple[str | None, str]] = field(default_factory=dict, init=False, repr=False)
    _topic_vectors: np.ndarray | None = field(default=None, init=False, repr=False)
    _bank_vectors: np.ndarray | None = field(default=None, init=False, repr=False)
    _accepted_vectors: list[tuple[np.ndarray, str, str]] = field(
        default_factory=list, init=False, repr=False
    )
    _prompt_cache: dict[tuple[str, bool], set[tuple[str, ...]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        for text in self.bank:
            self._keys.setdefault(normalise(text), (None, text))

    @classmethod
    def for_topic(
        cls, topic: Topic, *, embed: Callable[[list[str]], np.ndarray] | None = None, **kwargs
    ) -> Gates:
        """Gates for a plugin topic: its text and parts, and its whole bank."""
        return cls(
            topic_text=f"{topic.title}. {topic.summary} {' '.join(topic.objectives)}",
            bank=bank_texts(topic),
            topic_parts=[topic.title, topic.summary, *topic.objectives],
            embed=embed,
            **kwargs,
        )

    def check(
        self, section: str, texts: list[str], *, provenance: str, prompt: str = ""
    ) -> tuple[list[str], list[Rejection]]:
        """Accepted texts (cleaned) in order, and one Rejection per refused text.

        ``prompt`` is the rendered prompt the texts answer (default: ``self.prompt``). Raises
        ValueError for an unknown section; an embedder failure propagates.
        """
        rule = SECTIONS.get(section)
        if rule is None:
            raise ValueError(f"unknown section {section!r}; expected one of {sorted(SECTIONS)}")
        copied = self._prompt_grams(prompt or self.prompt, rule.inputs_in_prompt)
        cleaned = [clean(text, section) for text in texts]
        reasons: list[str | None] = [
            self._form(rule, raw, text, copied) for raw, text in zip(texts, cleaned, strict=True)
        ]

        vectors: dict[str, np.ndarray] = {}
        if self.embed is not None and (rule.dedupe or rule.relevance):
            fresh = {
                normalise(text): text
                for text, reason in zip(cleaned, reasons, strict=True)
                if reason is None and normalise(text) not in self._keys
            }
            vectors = self._embed_items(fresh)

        accepted: list[str] = []
        rejections: list[Rejection] = []
        for raw, text, reason in zip(texts, cleaned, reasons, strict=True):
            key = normalise(text)
            if reason is None and rule.dedupe:
                reason = self._exact(key)
            vector = vectors.get(key)
            if reason is None and vector is not None and rule.dedupe:
                reason = self._near(vector)
            if reason is None and vector is not None and rule.relevance:
                reason = self._off_topic(vector)
            if reason is not None:
                shown = _printable(text or " ".join(raw.split()))
                rejections.append(
                    Rejection(section=section, text=shown, reason=reason, provenance=provenance)
                )
                continue
            accepted.append(text)
            if rule.dedupe:
                self.accepted.append((section, text))
                self._keys.setdefault(key, (section, text))
                if vector is not None:
                    self._accepted_vectors.append((vector, section, text))
        return accepted, rejections

    # --- the rules -------------------------------------------------------------------------

    def _form(self, rule: Rule, raw: str, text: str, copied: set[tuple[str, ...]]) -> str | None:
        control = next((ch for ch in raw if is_control(ch)), None)
        if control is not None:
            return f"control character U+{ord(control):04X}"
        if not text:
            return "empty"
        if not normalise(text):
            return "no words"
        if len(text) < rule.min_chars:
            return f"too short ({len(text)} chars, at least {rule.min_chars})"
        if len(text) > rule.max_chars:
            return f"too long ({len(text)} chars, at most {rule.max_chars})"
        loop = repetition(text)
        if loop is not None:
            return f"repetition loop: {loop}"
        leaked = leak(text)
        if leaked is not None:
            return leaked
        run = copied_run(text, copied)
        if run is not None:
            return f"copied from the prompt: {_quote(run)}"
        if rule.question and not _QUESTION_END.search(text):
            return f"a {rule.noun} must end with '?'"
        if rule.sentence and not rule.question and not _SENTENCE_END.search(text):
            return "ends mid-sentence"
        return None

    def _exact(self, key: str) -> str | None:
        found = self._keys.get(key)
        if found is None:
            return None
        section, text = found
        return f"duplicate of {self._where(section)}: {_quote(text)}"

    def _near(self, vector: np.ndarray) -> str | None:
        best, where = -1.0, ""
        assert self._bank_vectors is not None
        if len(self._bank_vectors):
            scores = self._bank_vectors @ vector
            index = int(np.argmax(scores))
            best, where = float(scores[index]), f"{self._where(None)}: {_quote(self.bank[index])}"
        if self._accepted_vectors:
            scores = np.stack([v for v, _, _ in self._accepted_vectors]) @ vector
            index = int(np.argmax(scores))
            if float(scores[index]) > best:
                _, section, text = self._accepted_vectors[index]
                best, where = float(scores[index]), f"{self._where(section)}: {_quote(text)}"
        if best >= self.duplicate_threshold:
            return f"near-duplicate (cosine {best:.2f}) of {where}"
        return None

    def _off_topic(self, vector: np.ndarray) -> str | None:
        if self._topic_vectors is None or not len(self._topic_vectors):
            return None
        score = float(np.max(self._topic_vectors @ vector))
        if score < self.relevance_threshold:
            return f"off topic (similarity {score:.2f} < {self.relevance_threshold:.2f})"
        return None

    @staticmethod
    def _where(section: str | None) -> str:
        if section is None:
            return "the plugin bank"
        return f"an accepted {SECTIONS[section].noun}"

    # --- caches ----------------------------------------------------------------------------

    def _parts(self) -> list[str]:
        if not self.topic_text.strip():
            return []
        parts = list(self.topic_parts) or re.split(r"(?<=[.!?])\s+", self.topic_text)
        unique = dict.fromkeys(p.strip() for p in [self.topic_text, *parts] if p.strip())
        return list(unique)

    def _embed_items(self, items: dict[str, str]) -> dict[str, np.ndarray]:
        """Vectors for ``items`` (key -> text) by key, in one batch (with the topic and the bank
        the first time)."""
        assert self.embed is not None
        keys, texts = list(items), list(items.values())
        if not texts:
            return {}
        first = self._bank_vectors is None
        extra = [*self._parts(), *self.bank] if first else []
        batch = [*extra, *texts]
        rows = unit_rows(self.embed(batch))
        if rows.shape[0] != len(batch):
            raise ValueError(f"the embedder returned {rows.shape[0]} vectors for {len(batch)}")
        if first:
            topics = len(self._parts())
            self._topic_vectors = rows[:topics]
            self._bank_vectors = rows[topics : len(extra)]
        return {key: rows[len(extra) + i] for i, key in enumerate(keys)}

    def _prompt_grams(self, prompt: str, inputs_in_prompt: bool) -> set[tuple[str, ...]]:
        key = (prompt, inputs_in_prompt)
        if key not in self._prompt_cache:
            if len(self._prompt_cache) > 8:
                self._prompt_cache.clear()
            self._prompt_cache[key] = prompt_grams(prompt, inputs_in_prompt)
        return self._prompt_cache[key]
