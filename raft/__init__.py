"""KRaft-style consensus for the metadata log: a sans-I/O core plus a thin driver."""
