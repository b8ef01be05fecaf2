"""The unified customer profile and loyalty platform (domain and adapters, no web layer)."""
