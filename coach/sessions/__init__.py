"""Programme data: people, pairs, sessions with phases, notes, experiments, feedback, metrics."""
