"""CLI commands (filled in by their module owner)."""
