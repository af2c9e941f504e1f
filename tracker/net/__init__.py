"""Network I/O: fetching pages behind limits, the private-network guard, politeness."""
