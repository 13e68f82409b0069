"""Tasks are data: the task specs decide the v1 schema, the runners, the batchers and /health.

A throw-away task (the mean brightness of an image) is added as one spec, the way a module
in inference_sidecar/tasks/ would add it, and the sidecar built with it serves it over HTTP
without any other change."""

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image
from pydantic import BaseModel, Field

from inference_sidecar.registry import Location, ModelSlot
from inference_sidecar.schemas_v1 import StrictModel
from inference_sidecar.settings import Settings
from inference_sidecar.tasks import TASKS, Batch, TaskSpec
from tests.sidecar import served_app
from tests.sidecar.served_app import served
from tests.support import pictures

KEY = "brightness-test-key-0123456789"


class BrightnessOptions(StrictModel):
    scale: float = Field(1.0, gt=0)


class BrightnessOut(BaseModel):
    model: str
    mean: float


class MeanBrightness:
    name, device = "mean-v1", "cpu"


def measure(model: MeanBrightness, images: list[Image.Image]) -> list[float]:
    return [float(np.asarray(image.convert("L")).mean()) for image in images]


async def analyze(inference, image: Image.Image, options: BrightnessOptions) -> BrightnessOut:
    mean = await inference.submit("brightness", image)
    return BrightnessOut(model=MeanBrightness.name, mean=mean * options.scale)


BRIGHTNESS = TaskSpec(
    name="brightness",
    options=BrightnessOptions,
    result=BrightnessOut,
    slot=lambda settings: ModelSlot("brightness", "cpu", lambda: Location(""), MeanBrightness),
    batches=(Batch("brightness", measure),),
    run=analyze,
)
NAMES = [spec.name for spec in TASKS]


def analyze_schema(openapi: dict) -> dict:
    return openapi["paths"]["/v1/analyze"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]


def test_schema_and_health_list_exactly_the_task_specs(client):
    schema = analyze_schema(client.get("/openapi.json").json())
    assert schema["properties"]["tasks"]["items"]["enum"] == NAMES
    assert schema["properties"]["tasks"]["default"] == NAMES
    assert list(schema["$defs"]["AnalyzeOptions"]["properties"]) == NAMES
    assert list(client.get("/health").json()["models"]) == NAMES


@pytest.fixture(scope="module")
def extended(tmp_path_factory) -> Iterator[httpx.Client]:
    """A sidecar built with every task and the throw-away one, served over loopback HTTP."""
    settings = Settings(api_key=KEY, model_dir=tmp_path_factory.mktemp("models"), device="cpu")
    with served(settings, *TASKS, BRIGHTNESS) as url, served_app.client(url, KEY) as c:
        yield c


def test_a_new_task_is_one_spec(extended):
    schema = analyze_schema(extended.get("/openapi.json").json())
    assert schema["properties"]["tasks"]["items"]["enum"] == [*NAMES, "brightness"]
    assert extended.get("/health").json()["models"]["brightness"]["available"] is True
    grey = pictures.encode(Image.new("L", (64, 32), 100), "PNG")
    response = extended.post(
        "/v1/analyze",
        files={"image": ("grey.png", grey)},
        data={"tasks": "brightness", "options": '{"brightness": {"scale": 2}}'},
    )
    assert response.status_code == 200, response.text
    assert response.json()["results"] == {"brightness": {"model": "mean-v1", "mean": 200.0}}
    assert 'model="brightness"' in extended.get("/metrics").text  # its batcher ran


def test_a_new_tasks_options_are_checked_like_the_others(extended):
    grey = pictures.encode(Image.new("L", (8, 8)), "PNG")
    for options in ('{"brightness": {"scale": -1}}', '{"brightness": {"unknown": 1}}'):
        response = extended.post(
            "/v1/analyze",
            files={"image": ("grey.png", grey)},
            data={"tasks": "brightness", "options": options},
        )
        assert response.status_code == 422
        assert response.json()["error"]["kind"] == "bad_request"
