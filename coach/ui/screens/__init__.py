"""One module per screen; ``base.CoachScreen`` gives each the header, status line and footer."""
