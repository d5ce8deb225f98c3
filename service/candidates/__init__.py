"""Candidate finders: spaCy-based steps that find the spans facts can be built from.

Each finder is one small step over one shared `Article` (text, spaCy doc, candidates); a
strategy is the list of its steps (`service.extraction`).
"""
