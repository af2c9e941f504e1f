"""Network I/O: fetchers behind one interface (``fetcher``: the `PageFetcher` protocol and the
registry; ``http``: the default fetcher), charset decoding, the private-network guard,
politeness."""
