"""Privacy tests against the real services (P2 log canary, pitfall 6 start over)."""
