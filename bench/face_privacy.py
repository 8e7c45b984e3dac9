"""Faces an independent detector still finds in public pictures (issue 12, item 7).

    python -m bench.face_privacy [--split val|train|all|media] [--limit N] [--faces-only]

For each image of ../shared/datasets/face_mask (the held-out split of
`vision.yoloset.holdout_split`, 20 %, seed 0: `val` is 136 images; the filter's constants
were tuned on `train`, the rest): the deployed person detector (`load_detector("coco")`)
gives the person boxes the vision worker would write beside the snapshot; the picture is
served as the API serves it (`api.web.pictures.serve`: the default filter at the API's
default width, JPEG quality 80); then MTCNN (facenet-pytorch, its own weights, nothing of
ours) with pinned settings (`min_face_size=20`, thresholds 0.6 / 0.7 / 0.7, on the served
picture upscaled x2) looks for faces. Also counted: the faces MTCNN finds in the raw
picture (the check does find faces), and the share of each picture blurred.
`--split media`: the kitchen photos, bus.jpg and zidane.jpg of ../shared/media instead
(scenes nearer a kitchen camera's, for the blurred share and the cost at 960 px).
`--faces-only` serves without person boxes (a snapshot without a sidecar: the filter as
it was before the head backstop). Writes bench/out/face_privacy_<split>[_faces_only].json and prints
one summary line and the pictures where a face was still found.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from brightwatch.api.settings import ApiSettings
from brightwatch.api.web.pictures import serve
from brightwatch.vision.detector import Detector, load_detector
from brightwatch.vision.privacy import Box, PrivacyFilter, default_filter
from brightwatch.vision.yoloset import LabelledImage, holdout_split

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "datasets" / "face_mask"
# issue 12's pinned check: MTCNN's defaults but a 20 px smallest face, on a x2 upscale
MTCNN_SETTINGS: dict[str, Any] = {"min_face_size": 20, "thresholds": [0.6, 0.7, 0.7]}
UPSCALE = 2
HOLDOUT, SEED = 0.2, 0


def api_max_width() -> int:
    """The width the API serves at by default (ApiSettings.public_max_width)."""
    return int(ApiSettings.model_fields["public_max_width"].default)


def face_mask_split(which: str, data: Path = DATA) -> list[LabelledImage]:
    """`train` (tuning), `val` (held out: measuring) or `all` of the face_mask images."""
    items = [
        LabelledImage(p, data / "labels" / "train" / f"{p.stem}.txt")
        for p in sorted((data / "images" / "train").glob("*.jpg"))
    ]
    if which == "all":
        return items
    train, val = holdout_split(items, HOLDOUT, SEED)
    if which not in ("train", "val"):
        raise ValueError(f"split {which!r}: train, val or all")
    return train if which == "train" else val


class MtcnnCheck:
    """MTCNN with the pinned settings, on CPU; boxes in pixels of the picture given."""

    def __init__(self) -> None:
        import torch
        from facenet_pytorch import MTCNN

        self._torch = torch
        self.model = MTCNN(keep_all=True, device="cpu", **MTCNN_SETTINGS)

    def faces(self, image: np.ndarray) -> list[tuple[Box, float]]:
        up = cv2.resize(image, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_LINEAR)
        with self._torch.no_grad():
            boxes, probs = self.model.detect(cv2.cvtColor(up, cv2.COLOR_BGR2RGB))
        if boxes is None:
            return []
        out = []
        for box, prob in zip(boxes, probs, strict=True):
            x1, y1, x2, y2 = (float(v) / UPSCALE for v in np.asarray(box, dtype=float))
            out.append(((x1, y1, x2, y2), float(prob)))
        return out


def persons(detector: Detector, image: np.ndarray) -> list[Box]:
    """The person boxes the vision pipeline gives for this frame."""
    return [d.box for d in detector.detect(image) if d.label == "person"]


def served_picture(
    privacy: PrivacyFilter, image: np.ndarray, boxes: Sequence[Box]
) -> tuple[np.ndarray, float, int]:
    """(the served picture decoded, its blurred share, head regions blurred)."""
    found = serve(privacy, image, boxes)
    if found is None:
        raise RuntimeError("the picture could not be encoded")
    jpeg, filtered = found
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("the served picture could not be decoded")
    return decoded, filtered.share, filtered.heads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", default="val", choices=["val", "train", "all", "media"])
    ap.add_argument("--limit", type=int, default=0, help="first N images only (0: all)")
    ap.add_argument("--faces-only", action="store_true", help="no person boxes (no sidecar)")
    args = ap.parse_args()
    if not DATA.exists():
        raise SystemExit(f"needs {DATA}")
    if args.split == "media":
        media = SHARED / "media"
        paths = sorted(
            p for p in (media / "kitchen").iterdir() if p.suffix in (".jpg", ".jpeg", ".png")
        ) + [
            media / "bus.jpg",
            media / "zidane.jpg",
        ]
        images = [LabelledImage(p, p.with_suffix(".none")) for p in paths]
    else:
        images = face_mask_split(args.split)
    if args.limit:
        images = images[: args.limit]
    privacy = default_filter(max_width=api_max_width())
    detector = load_detector("coco")
    check = MtcnnCheck()
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for item in images:
        image = cv2.imread(str(item.image))
        if image is None:
            raise SystemExit(f"unreadable image {item.image}")
        boxes = [] if args.faces_only else persons(detector, image)
        picture, share, heads = served_picture(privacy, image, boxes)
        left = check.faces(picture)
        rows.append(
            {
                "image": item.image.name,
                "persons": len(boxes),
                "heads": heads,
                "raw_faces": len(check.faces(image)),
                "faces_found": [[*(round(v, 1) for v in b), round(p, 3)] for b, p in left],
                "blurred_share": round(share, 4),
            }
        )
        if left:
            print(f"{item.image.name}: {len(left)} face(s) found after filtering {rows[-1]}")
    elapsed = time.perf_counter() - t0
    shares = [r["blurred_share"] for r in rows]
    result = {
        "split": args.split,
        "images": len(rows),
        "persons_given": not args.faces_only,
        "mtcnn": {**MTCNN_SETTINGS, "upscale": UPSCALE},
        "max_width": api_max_width(),
        "faces_in_raw_pictures": sum(r["raw_faces"] for r in rows),
        "pictures_with_faces_in_raw": sum(r["raw_faces"] > 0 for r in rows),
        "faces_found_after": sum(len(r["faces_found"]) for r in rows),
        "pictures_with_faces_after": sum(bool(r["faces_found"]) for r in rows),
        "blurred_share_mean": float(np.mean(shares)) if shares else 0.0,
        "blurred_share_max": float(np.max(shares)) if shares else 0.0,
        "seconds_per_image": elapsed / max(1, len(rows)),
        "rows": rows,
    }
    out_dir = Path(__file__).parent / "out"
    out_dir.mkdir(exist_ok=True)
    name = f"face_privacy_{args.split}{'_faces_only' if args.faces_only else ''}.json"
    (out_dir / name).write_text(json.dumps(result, indent=2))
    print(
        f"{args.split}: {result['images']} pictures ({'faces only' if args.faces_only else 'faces + head regions'});"
        f" MTCNN finds {result['faces_in_raw_pictures']} faces in {result['pictures_with_faces_in_raw']} raw pictures,"
        f" {result['faces_found_after']} in {result['pictures_with_faces_after']} served ones;"
        f" blurred share mean {result['blurred_share_mean']:.3f} max {result['blurred_share_max']:.3f};"
        f" {result['seconds_per_image'] * 1000:.0f} ms/picture"
    )


if __name__ == "__main__":
    main()
