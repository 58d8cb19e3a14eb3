"""Command-line interface: thin typer layers over the library."""
