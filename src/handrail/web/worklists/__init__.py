"""Worklists: unsigned notes, progress reports and recertifications due, authorizations
running out and patients nearing the therapy threshold, scoped to the user's clinic."""
