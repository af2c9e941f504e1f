"""One check, and the machinery that runs many: claims, the engine, the daemon,
housekeeping and the alert outbox."""
