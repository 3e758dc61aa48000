"""hwsim.sweep — see DESIGN.md layer table."""
