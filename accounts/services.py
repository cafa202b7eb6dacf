from __future__ import annotations

from django.db import IntegrityError, transaction

from accounts.models import User
from iotsite.errors import DomainError

USERNAME_TAKEN = "A user with that username already exists."


class UsernameTaken(DomainError):
    pass


def username_is_taken(username: str) -> bool:
    return User.objects.filter(username__iexact=username.strip()).exists()


def user_create(*, username: str, password: str, email: str = "") -> User:
    """Create a user; a username taken in any letter case is refused."""
    username = username.strip()
    if username_is_taken(username):
        raise UsernameTaken(USERNAME_TAKEN, field="username")
    try:
        with transaction.atomic():
            return User.objects.create_user(username=username, password=password, email=email)
    except IntegrityError:  # a concurrent sign-up won the race
        raise UsernameTaken(USERNAME_TAKEN, field="username") from None
