"""Read-only report queries and their exports."""
