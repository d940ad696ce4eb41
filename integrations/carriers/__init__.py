"""Carrier tracking adapters (AfterShip, 17TRACK) mapped into integrations.models.Shipment."""
