"""Data in: spec files, the catalogue, CPU tables, cloud instances, market dates, and the validated cache."""
