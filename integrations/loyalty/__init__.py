"""Loyalty and coupon adapters (Smile.io points, Shopify discount codes)."""
