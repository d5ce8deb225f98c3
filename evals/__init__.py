"""Eval harness: gold facts, matcher, scorer and reports (built on the service's schemas)."""
