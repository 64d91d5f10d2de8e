"""The caseworker dashboard: web pages at /dashboard/ inside `jobline run`."""
