"""newsfacts service: FastAPI app, LLM access, extraction pipeline and CLI."""
