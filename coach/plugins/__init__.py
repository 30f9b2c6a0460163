"""What a plugin author imports: the hook marker, the models and the loader types.

from coach.plugins import Topic, hookimpl
"""

from coach.hookspecs import hookimpl
from coach.knowledge.documents import Block, Document, Skip
from coach.plugins.models import Exercise, Phase, Resource, SessionEvent, SessionTemplate, Topic

__all__ = [
    "Block",
    "Document",
    "Exercise",
    "Phase",
    "Resource",
    "SessionEvent",
    "SessionTemplate",
    "Skip",
    "Topic",
    "hookimpl",
]
