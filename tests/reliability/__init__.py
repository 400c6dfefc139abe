"""Reliability under faults, hostile input and load: the fault matrix, fuzzing, and small load and soak runs."""
