"""The visit note page: per-code timers, structured notes, the live compliance panel,
signing and addenda. Writes go through handrail.web.visits.services."""
