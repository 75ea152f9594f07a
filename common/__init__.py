"""Everything the sync agent and the portal must agree on, defined once."""
