"""hwsim.trace — see DESIGN.md layer table."""
