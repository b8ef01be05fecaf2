"""The write path: signed webhooks in from POS and shop, an outbox out to the CRM."""
