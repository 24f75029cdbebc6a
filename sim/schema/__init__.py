"""The scenario schema, split by topic: base helpers, world sections, actors (labs, regulators)."""
