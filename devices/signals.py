"""Device events other apps react to, without devices importing them."""

from django.dispatch import Signal

# Sent after the revocation commits, with device=<Device>.
device_token_revoked = Signal()
