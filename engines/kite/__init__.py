"""Kite Connect at Paperfleet's edge: an emulator of its wire protocol, to test the live feed offline."""
