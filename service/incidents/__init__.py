"""Incidents: figures and events of many articles, normalised, grouped and reconciled.

This room reads facts (schemas.facts) and the article's text; it never calls spaCy or the
model. The store keeps what it builds; the API and the CLI sit above both.
"""
