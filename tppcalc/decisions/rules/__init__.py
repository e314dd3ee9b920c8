"""Rules as data: editions of the US advanced-computing controls, country groups, predicates."""

from pathlib import Path

# The rule data ships inside this package (it is package data, not a top-level folder), so a
# plain path serves both a wheel and a checkout; importlib.resources would add ~10 ms of imports.
RULES_DATA_DIR = Path(__file__).resolve().parent / "data"
