"""hwsim.physics — see DESIGN.md layer table."""
