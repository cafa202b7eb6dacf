"""Browser forms: sign-up and device creation. Validation is the services' own rules,
called from here so that the page and the API refuse the same input the same way."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from accounts.services import username_is_taken
from dashboard.cards import TYPE_LABELS
from devices.device_types import ANALOG_GAUGE, config_errors
from devices.selectors import device_name_taken

User = get_user_model()

DEVICE_TYPE_CHOICES = list(TYPE_LABELS.items())


def username_taken_message(username: str) -> str:
    return f"The username “{username}” is taken. Choose another, or log in if it is yours."


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That username and password do not match an account.",
    }


class SignUpForm(forms.Form):
    username = forms.CharField(
        max_length=150,
        validators=User._meta.get_field("username").validators,
        help_text="Letters, digits and @ . + - _ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none"}),
    )
    email = forms.EmailField(
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    password = forms.CharField(
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "aria-describedby": "password-rules"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The log-in form shares the page: its own ids stay unique.
        kwargs.setdefault("auto_id", "signup_%s")
        super().__init__(*args, **kwargs)

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip()
        if username_is_taken(username):
            raise ValidationError(username_taken_message(username), code="taken")
        return username

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        password = cleaned.get("password")
        if password:
            candidate = User(username=cleaned.get("username", ""), email=cleaned.get("email", ""))
            try:
                password_validation.validate_password(password, user=candidate)
            except ValidationError as error:
                self.add_error("password", error)
        return cleaned


class DeviceCreateForm(forms.Form):
    name = forms.CharField(max_length=100, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    type = forms.ChoiceField(choices=DEVICE_TYPE_CHOICES, initial=ANALOG_GAUGE)
    unit = forms.CharField(max_length=32, required=False, help_text="For example bar, °C, kPa.")
    min = forms.FloatField(required=False, label="Scale minimum")
    max = forms.FloatField(required=False, label="Scale maximum")
    description = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, owner, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        # Shown for analog gauges only, which need them: not marked optional.
        for name in ("min", "max"):
            self.fields[name].gauge_only = True  # type: ignore[attr-defined]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if device_name_taken(owner=self.owner, name=name):
            raise ValidationError("You already have a device with this name.", code="taken")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        device_type = cleaned.get("type")
        if device_type:
            cleaned["config"] = self._config(cleaned)
            for field, messages in config_errors(device_type, cleaned["config"]).items():
                if field in self.fields and field not in self.errors:
                    self.add_error(field, messages)
        return cleaned

    @staticmethod
    def _config(cleaned: dict[str, Any]) -> dict[str, Any]:
        """The device config from the form: only what was filled in, and only what the
        type uses (a generic sensor has no scale)."""
        config: dict[str, Any] = {}
        if cleaned.get("unit"):
            config["unit"] = cleaned["unit"].strip()
        if cleaned["type"] == ANALOG_GAUGE:
            for bound in ("min", "max"):
                if cleaned.get(bound) is not None:
                    config[bound] = cleaned[bound]
        return config
