"""Order-system adapters (Shopify Admin GraphQL)."""
