"""Home Assistant MQTT discovery bridge: devices announced on an owner's broker become
iotsite devices, and what their state topics publish is stored (`manage.py mqtt_bridge`)."""
