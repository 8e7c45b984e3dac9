"""Importing ultralytics (the optional extra) so that it never reaches for the internet.

Left alone, ultralytics downloads fonts for its plots (Arial.ttf), `yolo11n.pt` for its
AMP check, pretrained weights, and sends usage analytics. Sites and this project run
offline, so before the first import we set `YOLO_OFFLINE=1`, point its settings folder at
our data folder (`YOLO_CONFIG_DIR`, unless the caller set one) and switch analytics off;
callers pass `plots=False`, `amp=False`, `pretrained=False` and build from a `.yaml`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'brightwatch[ultralytics]'"


class UltralyticsMissing(RuntimeError):
    def __init__(self, what: str) -> None:
        super().__init__(f"{what} needs the optional ultralytics extra ({INSTALL_HINT})")


def import_ultralytics(what: str, config_dir: Path | None = None) -> ModuleType:
    """The `ultralytics` module, configured for offline use; a clear error when absent."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    if "YOLO_CONFIG_DIR" not in os.environ:
        base = config_dir or Path(os.environ.get("BW_DATA_DIR") or Path.home() / ".cache")
        folder = base / "ultralytics"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["YOLO_CONFIG_DIR"] = str(folder)
    try:
        import ultralytics
        from ultralytics.utils import SETTINGS
    except ImportError as exc:
        raise UltralyticsMissing(what) from exc
    try:
        SETTINGS.update({"sync": False, "clearml": False, "comet": False, "mlflow": False})
        SETTINGS.update({"dvc": False, "raytune": False, "wandb": False, "tensorboard": False})
    except Exception as exc:  # an older ultralytics without one of the keys
        log.debug("could not update ultralytics settings: %s", exc)
    return ultralytics
