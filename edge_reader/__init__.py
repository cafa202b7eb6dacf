"""Read analog gauges and digital displays from camera images, and send the values.

Nothing in this package imports Django or the server apps: a Raspberry Pi runs it
from requirements/edge.txt alone.
"""
