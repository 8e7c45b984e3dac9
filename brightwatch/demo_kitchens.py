"""The demo's kitchen cameras: one camera agent per registered kitchen (camera `cam1`),
each in its own thread, sending motion-gated frames to the service as a real site would.

Scenes are drawn (`edge.camera.scenes.KitchenScene`: a cook working in bursts, still in
between, so the gate has something to do) over a kitchen photo from ../shared/media/kitchen
when it is there, over a drawn kitchen otherwise: the demo needs nothing beside the
checkout.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np

from brightwatch.edge.camera.agent import CameraAgent, CameraConfig
from brightwatch.edge.camera.source import Capture, FrameSource, SourceSpec, open_capture
from brightwatch.runtime import broker_of
from brightwatch.settings import Settings

log = logging.getLogger("brightwatch.demo")

SHARED_KITCHEN_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "kitchen"
DEMO_CAMERA = "cam1"


def kitchen_photos(folder: Path = SHARED_KITCHEN_PHOTOS) -> list[np.ndarray]:
    photos = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.jp*g")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None and image.shape[1] >= 640:
                photos.append(image)
    return photos


def camera_agents(
    settings: Settings, sites: list[str], photos_folder: Path = SHARED_KITCHEN_PHOTOS
) -> list[CameraAgent]:
    photos = kitchen_photos(photos_folder)
    if sites:
        log.info(
            "kitchen cameras: %s",
            f"{len(photos)} photo(s) from {photos_folder}" if photos else "drawn scenes",
        )
    cam = settings.edge.camera
    address = broker_of(settings)
    agents = []
    for k, site_id in enumerate(sites):
        background = photos[k % len(photos)] if photos else None

        def opener(
            spec: SourceSpec, fps: float, bg: np.ndarray | None = background, seed: int = k
        ) -> Capture:
            return open_capture(spec, fps, background=bg, seed=seed)

        source = FrameSource(SourceSpec("synthetic", "kitchen"), cam.fps, opener=opener)
        config = CameraConfig(
            site_id=site_id,
            camera_id=DEMO_CAMERA,
            topic_root=settings.topic_root,
            data_dir=Path(settings.data_dir) / "demo",
            settings=cam,
        )
        agents.append(CameraAgent(config, address, source))
    return agents


def simulate_kitchens(
    settings: Settings, registry: dict[str, list[str]], stop: threading.Event
) -> None:
    """The registered kitchens' cameras, until `stop`."""
    threads = [
        threading.Thread(target=agent.run, args=(stop,), name=f"bw-camera-{agent.config.site_id}")
        for agent in camera_agents(settings, registry["kitchens"])
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
