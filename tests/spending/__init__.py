"""Tests of spending, batches, AI Gateway routing and default-model deprecation."""
