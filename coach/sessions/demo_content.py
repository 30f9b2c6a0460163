"""The words of the demo programme: people, topics, notes, experiments and feedback.

Kept apart from ``demo.py`` so the generator reads as logic and this file reads as copy. The notes
are short and concrete on purpose: a facilitator trying Coach should see the kind of thing a pair
really writes down, not lorem ipsum, so the reports and exports look like the real thing.
"""

from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = (
    "Amara", "Ben", "Chloe", "Dev", "Elif", "Femi", "Grace", "Hugo", "Ines", "Jonas",
    "Kemi", "Leo", "Maya", "Nikhil", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tariq",
    "Uma", "Victor", "Wen", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carla", "Diego",
    "Esther", "Farid", "Hana", "Ivan", "Jade", "Kofi", "Lena", "Marek", "Noor", "Oscar",
)  # fmt: skip
LAST_NAMES = (
    "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito",
    "Jansen", "Kowalski", "Lindqvist", "Moreau", "Nakamura", "Okafor", "Patel", "Quist",
    "Rossi", "Schmidt", "Tanaka", "Usman", "Varga", "Walsh", "Xu", "Yilmaz", "Zamora",
    "Novak", "Haddad", "Murphy", "Silva",
)  # fmt: skip
TIMEZONES = ("Europe/London", "Europe/Berlin", "Europe/Dublin", "America/New_York")


@dataclass(frozen=True)
class Area:
    """One thing a mentor can teach: the skills that show it and the topics it covers."""

    name: str
    mentor_skills: tuple[str, ...]
    topics: tuple[str, ...]
    mentee_goals: tuple[str, ...]


AREAS = (
    Area(
        "social media",
        ("social media", "LinkedIn", "short-form video", "community management"),
        ("social-media", "linkedin-presence", "online-listening"),
        (
            "Post on LinkedIn every week without the comms team drafting it",
            "Know what customers say about us online before the press office tells me",
            "Comment on industry posts in my own voice",
        ),
    ),
    Area(
        "remote collaboration",
        ("remote collaboration", "async meetings", "Teams and Slack", "shared documents"),
        ("remote-work", "async-meetings", "collaboration-tools"),
        (
            "Replace one weekly status meeting with a written update",
            "Cut my recurring meetings by a third",
            "Find team files myself instead of asking for them by email",
        ),
    ),
    Area(
        "AI tools",
        ("AI tools", "prompt writing", "spreadsheet automation", "responsible AI"),
        ("ai-tools", "prompting-basics", "responsible-ai"),
        (
            "Draft board-paper summaries with an AI assistant, and check them properly",
            "Know what staff may and may not paste into AI tools",
            "Get a useful first draft from a prompt in one or two tries",
        ),
    ),
    Area(
        "inclusion",
        ("inclusion", "accessibility", "employee networks", "cross-generational teams"),
        ("inclusive-culture", "inclusive-meetings", "across-generations"),
        (
            "Run leadership meetings where the quieter people speak",
            "Understand what early-career staff need from senior leaders",
            "Spot the jargon and in-jokes that shut new joiners out",
        ),
    ),
)


@dataclass(frozen=True)
class TopicCopy:
    """What a pair writes when a session is about this topic."""

    summary: str
    notes: tuple[str, ...]
    experiment: str


TOPICS: dict[str, TopicCopy] = {
    "social-media": TopicCopy(
        "Looked at how the company shows up on social media and which posts get a response.",
        (
            "Went through last month's company posts: the ones with a real person in the photo "
            "got about three times the comments.",
            "Mentee drafted a first post about the site visit; we cut it to four lines.",
            "Agreed that replying to comments matters more than posting more often.",
        ),
        "Post one update about the team's work and reply to every comment within a day",
    ),
    "linkedin-presence": TopicCopy(
        "Worked on the mentee's LinkedIn profile and a simple posting rhythm.",
        (
            "Rewrote the headline from the job title alone to what the team actually does.",
            "Cleaned up the About section and removed a press quote from years ago.",
            "Practised replying to comments from the phone in under two minutes.",
        ),
        "Update the LinkedIn headline and About section, then share a colleague's post",
    ),
    "online-listening": TopicCopy(
        "Set up a way for the mentee to hear what people say about us online.",
        (
            "Saved searches for our brand name and the two main competitors.",
            "Read app-store reviews together: most complaints are about logging in.",
            "A weekly 15-minute skim beats waiting for the monthly comms digest.",
        ),
        "Spend 15 minutes on Friday reading brand mentions; bring three to the next session",
    ),
    "remote-work": TopicCopy(
        "Talked about how the team works across sites and time zones.",
        (
            "Mapped the mentee's week: 14 hours of recurring meetings, 5 of them status updates.",
            "Being reachable is not the same as being online all day; working hours now go in "
            "the calendar.",
            "The Berlin half of the team only overlaps with London for three hours a day.",
        ),
        "Block two focus mornings a week in the calendar and keep them",
    ),
    "async-meetings": TopicCopy(
        "Turned a recurring meeting into an asynchronous update.",
        (
            "The Monday status meeting becomes a written thread with three questions.",
            "Recorded a three-minute video update instead of a call; odd at first, ten minutes "
            "to make.",
            "Decisions still need a meeting; updates do not.",
        ),
        "Run the Monday status update as a written thread for four weeks",
    ),
    "collaboration-tools": TopicCopy(
        "Hands-on with the team's chat and shared documents.",
        (
            "Pinned the three channels that matter and muted the rest.",
            "Co-edited the quarterly plan in the shared document instead of emailing versions.",
            "Mentee found the 'shared with me' filter for files; no more asking for links.",
        ),
        "Share the quarterly plan as a live document, not an attachment",
    ),
    "ai-tools": TopicCopy(
        "Tried AI assistants on real tasks from the mentee's week.",
        (
            "Tried two assistants on the same board-paper summary; both missed the risk section.",
            "The assistant drafted a reply to a supplier; mentee rewrote the opening and kept "
            "the rest.",
            "Meeting-notes feature is useful, but someone still has to check the actions.",
        ),
        "Draft one board-paper summary with the assistant and mark what had to be fixed",
    ),
    "prompting-basics": TopicCopy(
        "Practised writing prompts that give a useful first draft.",
        (
            "A pattern that worked: role, task, audience, length, then paste the text.",
            "Asking for three options instead of one gave much better headlines.",
            "Telling it what not to do worked less well than giving an example.",
        ),
        "Keep a note of three prompts that worked and three that did not",
    ),
    "responsible-ai": TopicCopy(
        "Went through what is safe to use AI for, and what is not.",
        (
            "Read the AI policy together: no customer data in public tools.",
            "Checked an AI summary against the source; it invented a figure. Good lesson.",
            "Mentee will ask legal whether the approved tool keeps our prompts.",
        ),
        "Ask the data protection lead which AI tools are approved for internal documents",
    ),
    "inclusive-culture": TopicCopy(
        "Talked about who feels they belong in the organisation, and who does not.",
        (
            "The mentor's peers mention career paths more than pay when they talk about leaving.",
            "Mentee noticed the offsite invite list was all people with ten years' service.",
            "Staff networks want a senior sponsor who turns up, not one who signs off.",
        ),
        "Ask two early-career people in the team what would make them stay",
    ),
    "inclusive-meetings": TopicCopy(
        "Looked at how the leadership meeting runs and who gets to speak.",
        (
            "Tried a speaking round at the start: everyone says one thing before discussion.",
            "Send the agenda a day ahead so people who think before they speak can prepare.",
            "Captions on by default helped two people in the last all-hands.",
        ),
        "Open the next leadership meeting with a speaking round",
    ),
    "across-generations": TopicCopy(
        "Compared how each generation in the team likes to work and get feedback.",
        (
            "Mentor likes feedback as a quick chat message; mentee expected a booked one-to-one.",
            "Listed the acronyms the exec team uses that new joiners do not know.",
            "Both of us assumed the other side disliked phone calls. Neither does.",
        ),
        "Write a one-page glossary of the exec team's acronyms for new joiners",
    ),
}

MENTOR_EXPERIMENTS = (
    "Send two examples of leaders in our sector who do this well",
    "Prepare a hands-on exercise on the mentee's own laptop for next time",
    "Find a short how-to video and send it before the next session",
)

OPENING_NOTES = (
    "Agreed to meet every four weeks, on video, and to keep the first ten minutes for the recap.",
    "We both want hands-on time, not slides. Mentee will bring a real task each session.",
)

PRIVATE_NOTES = {
    "mentee": (
        "I was worried about looking out of date in front of someone from my own company. Less "
        "so now.",
        "Need to check with HR before I share anything about the restructuring.",
        "Not comfortable posting about my leave last year; keep that off LinkedIn.",
    ),
    "mentor": (
        "Felt awkward correcting a director. Will ask the facilitator how to raise it.",
        "Mentee seemed distracted, probably the budget round. Do not push next time.",
        "I am not sure I know enough about the policy side; read up before the next session.",
    ),
}

WHAT_WORKED = {
    "mentee": (
        "Doing it on my own laptop instead of watching a demo.",
        "Short and practical; I used it the same afternoon.",
        "Patient when I got stuck in the settings.",
    ),
    "mentor": (
        "Mentee came with a real task to work on.",
        "Good questions about why, not only how.",
        "We kept to time and agreed clear next steps.",
    ),
}

WHAT_TO_CHANGE = {
    "mentee": (
        "Less time on the recap, more on the hands-on part.",
        "A short written checklist after the session would help.",
        "",
    ),
    "mentor": (
        "I should prepare an example from our own company.",
        "Start on time; we lost ten minutes to the previous meeting.",
        "",
    ),
}

AGREEMENT = {
    "agreement_cadence": "Every four weeks, 60 minutes on video; move, never skip.",
    "agreement_confidentiality": (
        "What we say stays between us; the facilitator only hears themes, never details."
    ),
    "agreement_boundaries": "No performance reviews or HR cases of people we both know.",
    "agreement_feedback_style": "Direct and kind, in the session rather than afterwards.",
}

CANCEL_REASON = "Mentee pulled into the quarterly results preparation; moved to next month."
NOT_A_FIT = {
    "mentee": "Our diaries never line up, and I need help with things outside the mentor's area.",
    "mentor": "Mentee wants to work on finance systems, which I do not know. Better to re-match.",
}
NOT_A_FIT_SUMMARY = (
    "Fit check: we agreed this pairing is not a good fit and asked the facilitator to re-match "
    "us. No hard feelings."
)
