"""The HTTP layer: the FastAPI app, batch extraction and the HTML view of a result."""
