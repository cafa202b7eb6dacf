"""python -m edge_reader read | run | snapshot | calibrate — see `python -m edge_reader -h`."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from edge_reader.calibration import (
    CalibrationError,
    calibrate_from_ticks,
    load_calibration,
    save_calibration,
)
from edge_reader.camera import CameraError
from edge_reader.gauge import calibrate_from_readings
from edge_reader.plausibility import PlausibilityFilter
from edge_reader.result import ReadError

EXIT_UNREADABLE = 2
DEFAULT_BUFFER = Path.home() / ".local" / "share" / "iotsite-edge" / "buffer.sqlite3"


def _print(document: dict[str, Any]) -> None:
    print(json.dumps(document, ensure_ascii=False), flush=True)


def _point(text: str) -> tuple[float, float]:
    try:
        x, y = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected X,Y in pixels, got {text!r}") from None
    return x, y


def _known_reading(text: str) -> tuple[str, float]:
    image, _, value = text.rpartition("=")
    try:
        return image, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected IMAGE=VALUE, got {text!r}") from None


def command_read(args: argparse.Namespace) -> int:
    from edge_reader.readers import read_image

    if not args.overlay:
        _print(read_image(args.image, load_calibration(args.calibration)).as_json())
        return 0
    import cv2

    from edge_reader.images import load_image
    from edge_reader.overlay import draw_overlay

    image = load_image(args.image)
    try:
        reading = read_image(image, load_calibration(args.calibration))
    except ReadError as error:
        # The overlay matters most when nothing was read: it shows what the reader saw.
        cv2.imwrite(args.overlay, draw_overlay(image, None, str(error)))
        raise
    if not cv2.imwrite(args.overlay, draw_overlay(image, reading)):
        raise ReadError(f"overlay: cannot write {args.overlay}")
    _print({**reading.as_json(), "overlay": args.overlay})
    return 0


def _device_credentials(args: argparse.Namespace) -> tuple[str, str]:
    server, token = args.server, args.token
    if args.qr:
        try:
            qr = json.loads(Path(args.qr).read_text())
            server, token = server or qr["server"], token or qr["token"]
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CalibrationError(f"qr: cannot read server and token from {args.qr}: {error}") from error
    if not server or not token:
        raise CalibrationError("give --server and --token, or --qr with the device's QR JSON")
    return server, token


def _plausibility(args: argparse.Namespace, calibration: dict) -> PlausibilityFilter | None:
    max_jump = args.max_jump if args.max_jump is not None else calibration.get("max_jump")
    if max_jump is None:
        return None
    try:
        return PlausibilityFilter(max_jump=float(max_jump))
    except (TypeError, ValueError) as error:
        raise CalibrationError(f"max_jump: {error}") from None


def command_run(args: argparse.Namespace) -> int:
    from edge_reader.camera import open_camera, open_source, run_camera_loop
    from edge_reader.client import BackgroundSender, TelemetryClient
    from edge_reader.commands import CommandPoller

    calibration = load_calibration(args.calibration)
    server, token = _device_credentials(args)
    source = open_source(args.source) if args.source else open_camera(args.camera)
    with TelemetryClient(server, token, args.buffer) as client:
        sender = BackgroundSender(client).start()
        poller = CommandPoller(server, token).start() if args.commands else None
        drain_timeout = 0.0  # interrupted or failed: what is left waits on disk for the next start
        try:
            stats = run_camera_loop(
                source,
                calibration,
                sender,
                interval=args.interval,
                sensor=args.sensor,
                min_confidence=args.min_confidence,
                plausibility=_plausibility(args, calibration),
                max_frames=args.max_frames,
                commands=poller,
            )
            drain_timeout = args.drain_timeout
        except KeyboardInterrupt:
            return 0
        finally:
            if poller is not None:
                poller.stop()
            # Whatever ended the loop, the sending thread stops before the client closes
            # the buffer under it.
            sender.stop(drain_timeout=drain_timeout)
        _print(
            {
                "frames": stats.frames,
                "readings": stats.readings,
                "unreadable": stats.unreadable,
                "unsure": stats.unsure,
                "implausible": stats.implausible,
                "pending": client.pending(),
            }
        )
    return 0


def command_snapshot(args: argparse.Namespace) -> int:
    import cv2

    from edge_reader.camera import CameraError, open_camera

    camera = open_camera(args.camera)
    try:
        frame = next(iter(camera.frames()), None)
    finally:
        camera.close()
    if frame is None or not cv2.imwrite(args.output, frame):
        raise CameraError(f"no frame saved to {args.output}")
    _print({"saved": args.output, "width": int(frame.shape[1]), "height": int(frame.shape[0])})
    return 0


def command_calibrate(args: argparse.Namespace) -> int:
    common = {"min_value": args.min_value, "max_value": args.max_value, "unit": args.unit, "direction": args.direction}
    if args.min_tick and args.max_tick:
        center, radius = args.center, args.radius
        if center is None:
            from edge_reader.gauge import measure_dial

            if not args.image:
                raise CalibrationError("image: needed to find the dial centre; or give --center")
            dial, _ = measure_dial(args.image)
            center, radius = dial.center, radius or dial.radius
        calibration = calibrate_from_ticks(center, args.min_tick, args.max_tick, radius=radius, **common)
    elif args.reading and len(args.reading) == 2:
        calibration = calibrate_from_readings(args.reading[0], args.reading[1], **common)
    else:
        raise CalibrationError(
            "give --min-tick and --max-tick (with IMAGE or --center), or --reading IMAGE=VALUE twice"
        )
    if args.output:
        save_calibration(calibration, args.output)
    _print(calibration)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m edge_reader", description="Read analog gauges from images and send the values."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    read = commands.add_parser("read", help="read one image and print {value, angle, confidence}")
    read.add_argument("image")
    read.add_argument("--calibration", required=True, help="calibration JSON file")
    read.add_argument("--overlay", help="also write the image with what the reader found drawn on it (PNG)")
    read.set_defaults(handler=command_read)

    run = commands.add_parser("run", help="read camera frames and send the values to the server")
    run.add_argument("--server", help="server base URL, e.g. https://iot.example.com")
    run.add_argument("--token", help="the device token")
    run.add_argument("--qr", help='JSON file with the QR content {"server", "device", "token"}')
    run.add_argument("--calibration", required=True)
    run.add_argument("--camera", type=int, default=0, help="camera number (default 0)")
    run.add_argument("--source", help="read an image file, a directory of images or a video instead")
    run.add_argument("--interval", type=float, default=5.0, help="seconds between frames (default 5)")
    run.add_argument("--sensor", default="value", help="sensor name of the readings (default value)")
    run.add_argument("--min-confidence", type=float, default=0.0, help="drop reads less sure than this")
    run.add_argument(
        "--max-jump",
        type=float,
        help="a value further than this from the last one is implausible and not sent "
        "(default: the calibration's max_jump; none when neither is set)",
    )
    run.add_argument("--buffer", type=Path, default=DEFAULT_BUFFER, help="readings waiting to be sent (SQLite)")
    run.add_argument("--max-frames", type=int, help="stop after this many frames")
    run.add_argument("--drain-timeout", type=float, default=10.0, help="seconds to send what waits, at the end")
    run.add_argument(
        "--commands",
        action="store_true",
        help="take the server's commands (setInterval, setCalibration, readNow, getStatus) between frames",
    )
    run.set_defaults(handler=command_run)

    snapshot = commands.add_parser("snapshot", help="save one camera frame, to calibrate from")
    snapshot.add_argument("output", help="image file to write, e.g. gauge.jpg")
    snapshot.add_argument("--camera", type=int, default=0)
    snapshot.set_defaults(handler=command_snapshot)

    calibrate = commands.add_parser(
        "calibrate", help="make a calibration from two known readings or from the min and max ticks"
    )
    calibrate.add_argument("image", nargs="?", help="image of the gauge (for --min-tick/--max-tick)")
    calibrate.add_argument(
        "--reading", type=_known_reading, action="append", help="IMAGE=VALUE: an image and the value it shows; give two"
    )
    calibrate.add_argument("--min-tick", type=_point, help="X,Y pixel of the min value's tick mark")
    calibrate.add_argument("--max-tick", type=_point, help="X,Y pixel of the max value's tick mark")
    calibrate.add_argument("--center", type=_point, help="X,Y of the dial centre (found in IMAGE if not given)")
    calibrate.add_argument("--radius", type=float, help="dial radius in pixels")
    calibrate.add_argument("--min-value", type=float, required=True)
    calibrate.add_argument("--max-value", type=float, required=True)
    calibrate.add_argument("--unit", default="")
    calibrate.add_argument(
        "--direction", choices=("cw", "ccw"), default="cw", help="the way the needle turns as the value rises"
    )
    calibrate.add_argument("--output", "-o", help="write the calibration JSON here")
    calibrate.set_defaults(handler=command_calibrate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        return args.handler(args)
    except (ReadError, CalibrationError) as error:
        _print({"error": str(error)})
        return EXIT_UNREADABLE
    except CameraError as error:
        _print({"error": str(error)})
        return 1


if __name__ == "__main__":
    sys.exit(main())
