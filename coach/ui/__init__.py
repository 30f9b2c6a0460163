"""The Textual TUI: screens compose, widgets render, slow work runs in workers.

``coach`` with no arguments opens it (``coach.ui.app.run``). Screens call the same services as
the CLI (``coach.sessions``, ``coach.prepare``, ``coach.knowledge``) through ``CoachContext``.
"""
