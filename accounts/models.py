from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower


class User(AbstractUser):
    """A person who owns devices. Usernames are unique regardless of case."""

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"
        constraints = [
            # "Alice" and "alice" are one person; also serves the login lookup.
            models.UniqueConstraint(Lower("username"), name="accounts_user_username_ci_unique"),
        ]
