"""Check one plugin folder the way Coach will load it, before it is installed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coach.plugins.host import PluginHost, PluginInfo
from coach.plugins.models import SessionEvent, Topic
from coach.settings import Settings


@dataclass
class PluginCheck:
    info: PluginInfo
    host: PluginHost

    @property
    def problems(self) -> list[str]:
        return self.info.errors

    @property
    def ok(self) -> bool:
        return self.info.status == "ok"

    @property
    def topics(self) -> list[Topic]:
        return [self.host.topics[topic_id].value for topic_id in self.info.topics]

    def notify(self, hook: str, event: SessionEvent) -> list[str]:
        return self.host.notify(hook, event)

    def unready_topics(
        self,
        *,
        icebreakers: int = 8,
        questions: int = 6,
        exercises: int = 2,
        steps: int = 3,
        knowledge: int = 2,
    ) -> list[str]:
        """What keeps this plugin's topics from carrying a whole session (the built-ins' bar)."""
        origin = f"plugin:{self.info.name}"
        files = [f for f in self.host.knowledge_files() if f.origin == origin]
        gaps = []
        for topic in self.topics:
            counts = {
                "icebreakers": (len(topic.icebreakers), icebreakers),
                "questions": (len(topic.questions), questions),
                "exercises": (len(topic.exercises), exercises),
                "knowledge files": (sum(topic.id in f.topics for f in files), knowledge),
            }
            gaps += [
                f"{topic.id}: {have} {what}, needs {need}"
                for what, (have, need) in counts.items()
                if have < need
            ]
            gaps += [
                f"{topic.id}: exercise '{e.title}' has {len(e.steps)} steps, needs {steps}"
                for e in topic.exercises
                if len(e.steps) < steps
            ]
            if not (topic.objectives and topic.mentor_tips and topic.mentee_tips):
                gaps.append(f"{topic.id}: needs objectives, mentor tips and mentee tips")
        return gaps

    def as_dict(self) -> dict[str, Any]:
        return {**self.info.as_dict(), "ok": self.ok}


def check_plugin(path: Path, settings: Settings) -> PluginCheck:
    """Load ``path`` beside the built-ins (to catch clashing ids) and try its knowledge files."""
    from coach.knowledge.documents import Skip
    from coach.knowledge.loaders import load

    root = path.resolve()
    host = PluginHost(settings, entry_points=False, folders=[root])
    info = next(
        (p for p in host.plugins if p.source == "folder" and Path(p.location) == root),
        None,
    )
    if info is None:
        info = PluginInfo(root.name, "?", "folder", str(root), status="failed")
        info.errors.append("no plugin here: expected plugin.toml, plugin.py or __init__.py")
        return PluginCheck(info, host)
    host.install_loaders()
    for file in host.knowledge:
        if file.plugin != info.name:
            continue
        try:
            load(file.path, file.path.read_bytes())
        except Skip as reason:
            info.errors.append(f"knowledge file {file.path.relative_to(root)}: {reason}")
        except OSError as exc:
            info.errors.append(f"knowledge file {file.path.relative_to(root)}: {exc.strerror}")
    if info.status == "ok" and info.errors:
        info.status = "degraded"
    return PluginCheck(info, host)
