"""The LLM GENERATOR: any OpenAI-compatible chat-completions server, through the ``openai`` client."""
