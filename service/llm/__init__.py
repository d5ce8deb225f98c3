"""LLM access: the openai/instructor client, the embedded llama.cpp server and its model."""
