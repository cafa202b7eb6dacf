"""Accuracy and speed of the edge reader on folders of real photos with known values.

    python bench/real_photos.py --dials DIR --lcd DIR            # every photo
    python bench/real_photos.py --dials DIR --lcd DIR --quick    # every 8th photo, for a quick look

Each folder holds `labels.tsv` (tab-separated, `#` starts a comment line: file, value, ...)
and the photos, in the folder itself or in `images/` beside it; a missing folder is
skipped with a message on stderr.

- Dials: a full-circle scale read clockwise from 12 o'clock, 0 to 10 (a sub-dial of a
  meter); the calibration holds only that range: the reader finds the dial itself.
  `failure_classes_pct` gives the share of photos in each failure class (no pointer
  found; flipped, 40-50% off; another object, 10-40%; imprecise, 2-10%, whether
  accepted or refused; right but refused).
  The error is cyclic (9.9 and 0.1 are 0.2 apart) in percent of full scale; a reading
  below `--min-confidence` (default: the server's TELEMETRY_IMAGE_MIN_CONFIDENCE default)
  counts as no reading, as the server would refuse it.
- Displays: a seven-segment display somewhere in the frame, no ROI; the label is the
  integer part shown, so a reading is exact when its integer part matches (or, as some
  labels are rounded and some rounded up, when it rounds or rounds up to the label:
  `label_rounded_up` counts the readings right only that way, such as 170.3 on a photo
  labelled 171, and `wrong_strict` what `wrong` would be without them). `decimals_stored` counts the stored
  readings by their digits after the point: a display shows a fixed number of decimals,
  so a reading with fewer has lost its last digit, one the integer label counts as right.

Prints progress and each miss (with `--verbose`) to stderr and, last on stdout, one JSON
line. `ms_per_image` is CPU time on one core (thread pools pinned to one).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from edge_reader.readers import read_image
from edge_reader.result import ReadError

DEFAULT_MIN_CONFIDENCE = 0.5  # iotsite.settings.TELEMETRY_IMAGE_MIN_CONFIDENCE's default
DIAL_CALIBRATION = {"kind": "dial", "min_angle": 0, "max_angle": 360, "min_value": 0, "max_value": 10}
DISPLAY_CALIBRATION = {"kind": "seven_segment"}


def labelled(folder: Path, every: int) -> list[tuple[Path, str]]:
    rows = []
    for line in (folder / "labels.tsv").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, value, *_ = line.split("\t")
        path = folder / "images" / name if (folder / "images" / name).exists() else folder / name
        rows.append((path, value))
    return rows[::every]


def timed_read(path: Path, calibration: dict) -> tuple[object, float]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    started = time.process_time()
    try:
        reading = read_image(image, calibration)
    except (ReadError, ValueError) as error:
        reading = error
    return reading, 1000 * (time.process_time() - started)


# Why a dial photo gave no right reading, by how far off the pointer found was (% of full
# scale): about half the scale off is the tail taken for the tip; 10-40% off is another
# object (print, a shadow, the rim) taken for the pointer.
DIAL_FAILURE_CLASSES = ("not_found", "flipped", "another_object", "imprecise", "right_but_refused")


def dial_failure_class(error_pct: float) -> str:
    if error_pct <= 2:
        return "right_but_refused"
    if error_pct < 10:
        return "imprecise"
    return "another_object" if error_pct < 40 else "flipped"


def bench_dials(folder: Path, every: int, min_confidence: float, verbose: bool) -> dict:
    rows = labelled(folder, every)
    full_scale = DIAL_CALIBRATION["max_value"] - DIAL_CALIBRATION["min_value"]
    errors, timings, refused, unsure_right, sure_wrong = [], [], 0, 0, 0
    classes = dict.fromkeys(DIAL_FAILURE_CLASSES, 0)
    for index, (path, label) in enumerate(rows):
        reading, ms = timed_read(path, DIAL_CALIBRATION)
        timings.append(ms)
        if isinstance(reading, Exception):
            refused += 1
            classes["not_found"] += 1
            if verbose:
                print(f"{path.name} {label} refused: {reading}", file=sys.stderr)
            continue
        error = abs(reading.value - float(label)) % full_scale
        error = 100 * min(error, full_scale - error) / full_scale
        if error > 2 or reading.confidence < min_confidence:
            classes[dial_failure_class(error)] += 1
        if reading.confidence < min_confidence:
            refused += 1
            unsure_right += error <= 2
            if verbose:
                print(
                    f"{path.name} {label} unsure: {reading.value:.2f} c={reading.confidence} ({error:.1f}%)",
                    file=sys.stderr,
                )
            continue
        errors.append(error)
        sure_wrong += error > 2
        if verbose and error > 2:
            print(
                f"{path.name} {label} wrong: {reading.value:.2f} c={reading.confidence} ({error:.1f}%)", file=sys.stderr
            )
        if index % 100 == 0:
            print(f"dials {index}/{len(rows)}", file=sys.stderr)
    found = np.array(errors or [math.nan])
    return {
        "n": len(rows),
        "no_reading": refused,
        "no_reading_pct": round(100 * refused / max(1, len(rows)), 1),
        "mae_pct_fs": round(float(found.mean()), 2),
        "p95_pct_fs": round(float(np.percentile(found, 95)), 2),
        "within_1pct": round(float((found <= 1).sum()) / max(1, len(rows)), 3),
        "within_2pct": round(float((found <= 2).sum()) / max(1, len(rows)), 3),
        "confident_right": round(1 - sure_wrong / max(1, len(errors)), 4),
        "refused_but_right": unsure_right,
        "failure_classes_pct": {name: round(100 * count / max(1, len(rows)), 1) for name, count in classes.items()},
        "ms_per_image": round(float(np.median(timings)), 1) if timings else None,
    }


def label_match(label: int, value: float) -> str | None:
    """How a display reading matches an integer label, or None when it does not.

    The labels give the integer part of what is shown ("cut"), but some photos' labels
    are the value rounded ("rounded", 53.7 labelled 54) and some rounded up ("rounded_up",
    170.3 labelled 171: the photo shows 170.3).
    """
    if label == math.floor(value + 1e-9):
        return "cut"
    if label == round(value):
        return "rounded"
    if label == math.ceil(value - 1e-9):
        return "rounded_up"
    return None


def bench_displays(folder: Path, every: int, min_confidence: float, verbose: bool) -> dict:
    rows = labelled(folder, every)
    exact = wrong = refused = rounded_up = 0
    timings = []
    # Digits after the point in each stored reading: labels that give the integer part
    # alone cannot tell 55.0 from 55.03, but a display shows a fixed number of decimals,
    # so readings with fewer than its usual number have lost a digit (or more, gained one).
    decimals: dict[int, int] = {}
    for index, (path, label) in enumerate(rows):
        reading, ms = timed_read(path, DISPLAY_CALIBRATION)
        timings.append(ms)
        if isinstance(reading, Exception) or reading.confidence < min_confidence:
            refused += 1
            if verbose:
                shown = reading if isinstance(reading, Exception) else f"{reading.value} c={reading.confidence}"
                print(f"{path.name} {label} refused: {shown}", file=sys.stderr)
            continue
        text = reading.details.get("text", "")
        places = len(text.split(".")[1]) if "." in text else 0
        decimals[places] = decimals.get(places, 0) + 1
        match = label_match(int(label), reading.value)
        if match is not None:
            exact += 1
            rounded_up += match == "rounded_up"
        else:
            wrong += 1
            if verbose:
                print(f"{path.name} {label} wrong: {reading.value} c={reading.confidence}", file=sys.stderr)
        if index % 50 == 0:
            print(f"displays {index}/{len(rows)}", file=sys.stderr)
    n = max(1, len(rows))
    return {
        "n": len(rows),
        "exact": exact,
        "wrong": wrong,
        "no_reading": refused,
        "exact_pct": round(100 * exact / n, 1),
        "wrong_pct": round(100 * wrong / n, 1),
        "right_of_read_pct": round(100 * exact / max(1, exact + wrong), 2),
        "label_rounded_up": rounded_up,
        "wrong_strict": wrong + rounded_up,
        "decimals_stored": {str(places): count for places, count in sorted(decimals.items())},
        "ms_per_image": round(float(np.median(timings)), 1) if timings else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dials", type=Path, help="folder of dial photos with labels.tsv")
    parser.add_argument("--lcd", type=Path, help="folder of seven-segment display photos with labels.tsv")
    parser.add_argument("--quick", action="store_true", help="every 8th photo only")
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    parser.add_argument("--verbose", action="store_true", help="print each miss to stderr")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    every = 8 if args.quick else 1
    result: dict = {"quick": args.quick, "min_confidence": args.min_confidence}
    for key, folder, bench in (("dials", args.dials, bench_dials), ("displays", args.lcd, bench_displays)):
        if folder is None:
            continue
        if not (folder / "labels.tsv").is_file():
            print(f"{key}: no labels.tsv in {folder}; skipped", file=sys.stderr)
            continue
        result[key] = bench(folder, every, args.min_confidence, args.verbose)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
