"""Session preparation: what Coach proposes for a session before the pair meets.

Preparation runs on small local models, so the wording of every request lives in prompt
templates (``prompts/``) that facilitators and plugins can replace without touching code;
``coach.prepare.prompts`` finds, checks and renders them.
"""
