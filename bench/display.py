"""Accuracy and speed of the seven-segment display reader on drawn displays with known values.

    python bench/display.py            # 600 displays, every frame size
    python bench/display.py --quick    # 500 displays at 640x480 and 1280x720, under a minute

Prints progress to stderr and, last on stdout, one JSON line: the share of displays read
exactly (the text as displayed), the failures (ReadError), the wrong readings reported
with high confidence, and the median time per 1280x720 frame on one core.
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

from edge_reader.display import read_display
from edge_reader.result import ReadError
from edge_reader.synthetic_display import random_display

HIGH_CONFIDENCE = 0.8
QUICK_SIZES = ((640, 480), (1280, 720))


def run(count: int, seed: int, quick: bool, verbose: bool) -> dict:
    rng = np.random.default_rng(seed)
    exact = failures = wrong = wrong_high_confidence = 0
    timings: list[float] = []
    for index in range(count):
        size = QUICK_SIZES[index % len(QUICK_SIZES)] if quick else None
        drawn = random_display(rng, size)
        started = time.process_time()
        try:
            reading = read_display(drawn.image, drawn.calibration)
        except ReadError as exc:
            failures += 1
            if verbose:
                print(f"#{index} {drawn.camera.size} {drawn.text!r} ReadError: {exc}", file=sys.stderr)
            continue
        finally:
            if drawn.camera.size == (1280, 720):
                timings.append(time.process_time() - started)
        if reading.details["text"] == drawn.text:
            exact += 1
            continue
        wrong += 1
        wrong_high_confidence += reading.confidence >= HIGH_CONFIDENCE
        if verbose:
            print(
                f"#{index} {drawn.camera.size} {drawn.text!r} read {reading.details['text']!r} "
                f"confidence {reading.confidence}",
                file=sys.stderr,
            )
    return {
        "displays": count,
        "exact_match_rate": round(exact / count, 4),
        "failures": failures,
        "wrong": wrong,
        "wrong_high_confidence": wrong_high_confidence,
        "ms_per_frame_1280x720": round(1000 * float(np.median(timings)), 1) if timings else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small frames only, under a minute")
    parser.add_argument("--count", type=int, default=None, help="displays to draw (default 600, quick 500)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--verbose", action="store_true", help="print each miss to stderr")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    count = args.count or (500 if args.quick else 600)
    print(json.dumps(run(count, args.seed, args.quick, args.verbose)))


if __name__ == "__main__":
    main()
