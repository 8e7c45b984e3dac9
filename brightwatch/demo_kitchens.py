"""The demo's kitchen cameras: one camera agent per registered kitchen (camera `cam1`,
the public cooking line), plus the storeroom camera of the first kitchen (`cam2`), each
in its own thread, sending to the service as a real site would.

The cooking-line cameras send motion-gated frames (central inference). Their scenes are
drawn (`edge.camera.scenes.KitchenScene`: a cook working in bursts, still in between, so
the gate has something to do) over a kitchen photo from ../shared/media/kitchen when it
is there, over a drawn kitchen otherwise: the demo needs nothing beside the checkout.
The storeroom camera runs in edge-detection mode: it sends detections with their
evidence frame, and only while a rodent clip plays (`scenario.kitchens`), keep-alives
otherwise.

Every camera's capture plays the clips the scenario player queues on its deck
(`scenario.kitchens.ClipDeck`) and its own scene in between.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import cv2
import numpy as np

from brightwatch.edge.camera.agent import CameraAgent, CameraConfig
from brightwatch.edge.camera.scenes import Activity, KitchenScene
from brightwatch.edge.camera.source import Capture, FrameSource, SceneCapture, SourceSpec
from brightwatch.runtime import broker_of
from brightwatch.scenario.kitchens import ClipCapture, ClipDeck, ClipDetections
from brightwatch.settings import Settings

log = logging.getLogger("brightwatch.demo")

SHARED_KITCHEN_PHOTOS = Path(__file__).resolve().parents[1].parent / "shared" / "media" / "kitchen"
DEMO_CAMERA = "cam1"
STOREROOM_CAMERA = "cam2"

Decks = dict[tuple[str, str], ClipDeck]


def kitchen_photos(folder: Path = SHARED_KITCHEN_PHOTOS) -> list[np.ndarray]:
    photos = []
    if folder.is_dir():
        for path in sorted(folder.glob("*.jp*g")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is not None and image.shape[1] >= 640:
                photos.append(image)
    return photos


def _agent(
    settings: Settings,
    site_id: str,
    camera_id: str,
    scene: KitchenScene,
    deck: ClipDeck,
    detect: bool = False,
) -> CameraAgent:
    cam = settings.edge.camera

    def opener(spec: SourceSpec, fps: float) -> Capture:
        return ClipCapture(SceneCapture(scene, fps), deck)

    source = FrameSource(SourceSpec("synthetic", scene.activity), cam.fps, opener=opener)
    config = CameraConfig(
        site_id=site_id,
        camera_id=camera_id,
        topic_root=settings.topic_root,
        data_dir=Path(settings.data_dir) / "demo",
        settings=cam,
        detect=detect,
    )
    detector = ClipDetections(deck) if detect else None
    return CameraAgent(config, broker_of(settings), source, detector)


def kitchen_cameras(
    settings: Settings,
    sites: list[str],
    photos_folder: Path = SHARED_KITCHEN_PHOTOS,
    storeroom: bool = True,
) -> tuple[list[CameraAgent], Decks]:
    """The agents, and the clip deck of each (site, camera)."""
    photos = kitchen_photos(photos_folder)
    if sites:
        log.info(
            "kitchen cameras: %s",
            f"{len(photos)} photo(s) from {photos_folder}" if photos else "drawn scenes",
        )
    agents: list[CameraAgent] = []
    decks: Decks = {}
    cameras: list[tuple[str, str, Activity, int]] = [
        (site_id, DEMO_CAMERA, "kitchen", k) for k, site_id in enumerate(sites)
    ]
    if storeroom and sites:
        cameras.append((sites[0], STOREROOM_CAMERA, "static", len(sites)))
    for site_id, camera_id, activity, k in cameras:
        background = photos[k % len(photos)] if photos else None
        scene = KitchenScene(activity, background=background, seed=k)
        deck = ClipDeck(scene.background)
        decks[(site_id, camera_id)] = deck
        detect = camera_id == STOREROOM_CAMERA
        agents.append(_agent(settings, site_id, camera_id, scene, deck, detect))
    return agents, decks


def camera_agents(
    settings: Settings, sites: list[str], photos_folder: Path = SHARED_KITCHEN_PHOTOS
) -> list[CameraAgent]:
    """The cooking-line cameras alone (no storeroom, no player)."""
    return kitchen_cameras(settings, sites, photos_folder, storeroom=False)[0]


def run_cameras(agents: list[CameraAgent], stop: threading.Event) -> None:
    """Each agent in its own thread, until `stop`."""
    threads = [
        threading.Thread(
            target=agent.run,
            args=(stop,),
            name=f"bw-camera-{agent.config.site_id}-{agent.config.camera_id}",
        )
        for agent in agents
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def simulate_kitchens(
    settings: Settings, registry: dict[str, list[str]], stop: threading.Event
) -> None:
    """The registered kitchens' cooking-line cameras, until `stop`."""
    run_cameras(camera_agents(settings, registry["kitchens"]), stop)
