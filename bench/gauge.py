"""Accuracy and speed of the gauge reader on drawn gauges with known values.

    python bench/gauge.py            # 600 gauges, all sizes and styles
    python bench/gauge.py --quick    # 500 gauges at small sizes, under a minute
    python bench/gauge.py --known-geometry   # calibrations that hold the dial's centre and radius
    python bench/gauge.py --range-only       # calibrations that hold only the value range

Prints progress to stderr and, last on stdout, one JSON line with the mean and 95th
percentile error in percent of full scale over every gauge read (misreads included),
the failures (ReadError), the misreads (error above 10% of full scale), the share of
gauges read at or above the server's default minimum confidence (`confident_pct`) and
how many of those are more than 2% off (`confident_over_2pct`), and the median
CPU time per 640x480 frame, on one core (thread pools pinned to one), with the wall
time beside it (higher when the machine is busy with other work).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

# One core, as on the device: pin the BLAS and OpenCV thread pools before they start.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from edge_reader.gauge import read_gauge
from edge_reader.result import ReadError
from edge_reader.synthetic import random_gauge

MISREAD_PCT = 10.0  # an error this large is a misread, not an imprecise read
QUICK_SIZES = ((320, 240), (640, 480))


def error_pct(read: float, true: float, calibration: dict, full_circle: bool) -> float:
    full_scale = abs(calibration["max_value"] - calibration["min_value"])
    error = abs(read - true)
    if full_circle:  # min and max are the same mark: a cyclic scale
        error = min(error, full_scale - error)
    return 100.0 * error / full_scale


MIN_CONFIDENCE = 0.5  # iotsite.settings.TELEMETRY_IMAGE_MIN_CONFIDENCE's default
ANGLE_KEYS = ("min_angle", "max_angle")


def run(
    count: int, seed: int, quick: bool, verbose: bool, known_geometry: bool = False, range_only: bool = False
) -> dict:
    rng = np.random.default_rng(seed)
    errors: list[float] = []
    failures = 0
    misreads = 0
    confident_off = 0
    confident = 0
    timings: list[float] = []  # CPU time: what one core spends, whatever else the machine runs
    wall_timings: list[float] = []
    for index in range(count):
        size = QUICK_SIZES[index % len(QUICK_SIZES)] if quick else None
        image, calibration, value, style = random_gauge(rng, size, known_geometry=known_geometry)
        if range_only:  # the reader finds the printed scale's ends itself
            calibration = {key: item for key, item in calibration.items() if key not in ANGLE_KEYS}
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            reading = read_gauge(image, calibration)
        except ReadError as exc:
            failures += 1
            if verbose:
                print(f"#{index} {image.shape[1]}x{image.shape[0]} ReadError: {exc}", file=sys.stderr)
            continue
        if image.shape[:2] == (480, 640):
            timings.append(time.process_time() - started_cpu)
            wall_timings.append(time.perf_counter() - started)
        error = error_pct(reading.value, value, calibration, style.sweep == 360)
        sure = reading.confidence >= MIN_CONFIDENCE
        confident += sure
        confident_off += sure and error > 2
        if error > MISREAD_PCT:
            misreads += 1
            if verbose:
                print(
                    f"#{index} {image.shape[1]}x{image.shape[0]} true {value:.3f} read {reading.value:.3f} "
                    f"({error:.1f}%) {calibration}",
                    file=sys.stderr,
                )
        errors.append(error)
    errors_array = np.array(errors or [float("nan")])
    return {
        "gauges": count,
        "mae_pct_full_scale": round(float(errors_array.mean()), 3),
        "p95_pct_full_scale": round(float(np.percentile(errors_array, 95)), 3),
        "failures": failures,
        "misreads_over_10pct": misreads,
        "confident_pct": round(100.0 * confident / count, 1),
        "confident_over_2pct": confident_off,
        "ms_per_frame_640x480": round(1000 * float(np.median(timings)), 1) if timings else None,
        "wall_ms_per_frame_640x480": round(1000 * float(np.median(wall_timings)), 1) if wall_timings else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small frames only, under a minute")
    parser.add_argument("--count", type=int, default=None, help="gauges to draw (default 600, quick 500)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print each failure to stderr")
    parser.add_argument(
        "--known-geometry",
        action="store_true",
        help="calibrations carry the dial centre and radius, as a fixed camera's do",
    )
    parser.add_argument(
        "--range-only",
        action="store_true",
        help="calibrations hold only the value range: the reader finds the scale's ends",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    count = args.count or (500 if args.quick else 600)
    result = run(count, args.seed, args.quick, args.verbose, args.known_geometry, args.range_only)
    print(json.dumps({"range_only": args.range_only, **result}))


if __name__ == "__main__":
    main()
