"""Tests of the emulator: routes, answers, faults, streams and batches, its catalog and contract."""
