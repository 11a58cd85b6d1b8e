"""The storefront: every pattern of the library composed into one system (the default app)."""
