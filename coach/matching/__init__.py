"""Matching mentors with mentees: who can teach what the other wants to learn, under the
programme's constraints, solved optimally and explained pair by pair.

``models`` holds the shapes every caller shares (the CLI, the TUI, plugins' criteria);
the scoring, constraints and solver live in their own modules.
"""
