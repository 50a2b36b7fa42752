"""Rule engines: pure functions of the domain model that return findings."""
