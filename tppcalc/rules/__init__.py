"""Rules as data: editions of the US advanced-computing controls, country groups, predicates."""
