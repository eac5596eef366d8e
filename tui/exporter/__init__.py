"""``rqtop exporter``: Prometheus metrics from the dashboard's own bounded, read-only Snapshot.

``cache`` reads at most one Snapshot per min-interval however often it is scraped; ``families`` turns one
into metric families (rq-exporter's names first, then rqtop's); ``task_totals`` keeps per-task counters
monotonic across the 24 h window; ``server`` serves them over HTTP. Textual-free.
"""
