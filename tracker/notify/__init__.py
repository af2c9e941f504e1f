"""Alerts: channels (email, signed webhooks, Apprise) fed by a durable outbox.

``outbox.enqueue_alerts`` writes deliveries in the check's transaction; the daemon's
delivery tick (``outbox.DeliveryRunner``) sends them with back-off and records every
attempt. See docs/alerts.md.
"""
