#!/usr/bin/env python3
"""Write the dynamic security file a new iotsite broker starts from.

It holds one client, the server's own account (MQTT_USERNAME / MQTT_PASSWORD), whose
role may run the plugin's commands and subscribe to device telemetry, and a default
of "nothing allowed" for everyone else. Devices are added by the server itself.
Standard library only, so it runs on the broker's host:

    MQTT_PASSWORD=... python3 deploy/mosquitto/dynsec_seed.py --output dynamic-security.json
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

SERVER_ROLE = "iotsite-server"
CONTROL_TOPICS = "$CONTROL/dynamic-security/#"
TELEMETRY_TOPICS = "devices/+/telemetry"
DEVICE_TOPICS = "devices/#"
DOWNLINK_TOPICS = "devices/+/down/#"
# The plugin's own scheme: PBKDF2-SHA512 over the password with a 12-byte salt.
HASH_ITERATIONS = 101


def password_entry(password: str) -> dict[str, object]:
    salt = secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, HASH_ITERATIONS)
    return {
        "password": base64.b64encode(digest).decode(),
        "salt": base64.b64encode(salt).decode(),
        "iterations": HASH_ITERATIONS,
    }


def acl(acltype: str, topic: str) -> dict[str, object]:
    return {"acltype": acltype, "topic": topic, "priority": 0, "allow": True}


def dynsec_document(*, username: str, password: str) -> dict[str, object]:
    return {
        "clients": [
            {
                "username": username,
                "textname": "iotsite server: device credentials and mqtt_ingest",
                **password_entry(password),
                "roles": [{"rolename": SERVER_ROLE}],
            }
        ],
        "groups": [],
        "roles": [
            {
                "rolename": SERVER_ROLE,
                "acls": [
                    acl("publishClientSend", CONTROL_TOPICS),
                    acl("publishClientReceive", CONTROL_TOPICS),
                    acl("subscribePattern", CONTROL_TOPICS),
                    # Mosquitto 2.0 checks a shared subscription with its $share/<group>/ prefix.
                    acl("subscribePattern", f"$share/+/{TELEMETRY_TOPICS}"),
                    acl("subscribePattern", TELEMETRY_TOPICS),
                    acl("publishClientReceive", TELEMETRY_TOPICS),
                    # Device communication: every device's uplink, and sending to its downlink.
                    acl("subscribePattern", DEVICE_TOPICS),
                    acl("subscribePattern", f"$share/+/{DEVICE_TOPICS}"),
                    acl("publishClientReceive", DEVICE_TOPICS),
                    acl("publishClientSend", DOWNLINK_TOPICS),
                    # The iotsite_me plugin's control topic: which device a token belongs to.
                    acl("publishClientSend", "$CONTROL/iotsite/#"),
                    acl("unsubscribePattern", "#"),
                ],
            }
        ],
        # Devices get a role each that lets them publish to their own topic only.
        "defaultACLAccess": {
            "publishClientSend": False,
            "publishClientReceive": False,
            "subscribe": False,
            "unsubscribe": True,
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, type=Path)
    parser.add_argument("--username", default=os.environ.get("MQTT_USERNAME", "iotsite"))
    parser.add_argument("--force", action="store_true", help="overwrite an existing file (it holds every device)")
    args = parser.parse_args(argv)
    password = os.environ.get("MQTT_PASSWORD", "")
    if not password:
        print("Set MQTT_PASSWORD to the server's broker password.", file=sys.stderr)
        return 2
    if args.output.exists() and not args.force:
        print(f"{args.output} exists; --force replaces it and forgets every device.", file=sys.stderr)
        return 2
    args.output.write_text(json.dumps(dynsec_document(username=args.username, password=password), indent=1))
    args.output.chmod(0o600)  # the broker alone reads it
    return 0


if __name__ == "__main__":
    sys.exit(main())
