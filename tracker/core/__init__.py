"""The pure core: decisions with no database, no network and no clock."""
