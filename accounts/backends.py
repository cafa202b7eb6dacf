from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from accounts.login_guard import LoginLockedOut, client_address, login_retry_after, login_success_record


class CaseInsensitiveUsernameBackend(ModelBackend):
    """Log in as "Alice" or "alice" alike: usernames are unique regardless of case.

    The log-in lockout is enforced here, where every log-in path checks a password, on
    the username being checked (accounts/login_guard.py)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        user_model = get_user_model()
        if username is None:
            username = kwargs.get(user_model.USERNAME_FIELD)
        if not isinstance(username, str) or password is None:
            return None
        address = client_address(request) if request is not None else None
        seconds = login_retry_after(username=username, address=address)
        if seconds:
            raise LoginLockedOut(seconds)  # before the password is checked: it tells nothing
        try:
            user = user_model._default_manager.get(username__iexact=username.strip())
        except user_model.DoesNotExist:
            # Hash anyway so a missing user takes as long as a wrong password.
            user_model().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            # The JWT endpoint logs nobody in (no user_logged_in signal): success is here.
            login_success_record(username=user.get_username())
            return user
        return None
