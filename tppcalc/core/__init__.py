"""The exact core: exact numbers, precisions, thresholds, readings, ECCN values, and the metrics."""
