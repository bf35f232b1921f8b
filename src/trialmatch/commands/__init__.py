"""Command-line sub-commands, one module per command group; ``trialmatch.cli`` assembles them."""
