"""The public service: chat gateway, referral queue, coordinator pages."""
