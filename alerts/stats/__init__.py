"""Kitchen statistics per kitchen, district and city, computed in SQL (alerts.stats.queries)."""
