"""Notifications by email and webhook: configuration, the Redis outbox, the two channels and the sender loop."""
