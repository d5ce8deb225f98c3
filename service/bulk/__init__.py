"""Bulk extraction through a provider's batch API (OpenAI's Batch API and compatibles)."""
