"""Decisions: the rule editions in force, classification under them, and model-weight rules."""
