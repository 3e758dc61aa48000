"""hwsim.training — see DESIGN.md layer table."""
