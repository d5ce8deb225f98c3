"""Pydantic models of the facts and the API; free of web and LLM libraries."""
