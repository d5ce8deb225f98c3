"""Extraction strategies: the steps that turn an article into facts (`llm`, `nlp`, `hybrid`)."""
