"""Password hashing, tokens and API-key encryption compatible with the web app (no database)."""
