"""The session controller: pre-market checks, engines in containers, watching, stopping, end of day."""
