"""Face detection and recognition, in process, on a tiny InsightFace-layout pack.

The tiny detector is hand-built to find bright squares (see tiny_models), so these tests can
say where a face must be found; the recogniser is random, so identity is tested only as
"the same pixels give the same embedding".
"""

from __future__ import annotations

import shutil

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image, ImageDraw

from inference_sidecar.errors import ModelMissing
from inference_sidecar.models.faces import (
    ARCFACE_TEMPLATE,
    FaceModel,
    _nms,
    align_face,
    face_pack_dir,
    face_pack_files,
    similarity_transform,
)
from inference_sidecar.testing.tiny_models import draw_tiny_face, make_tiny_face_pack


@pytest.fixture(scope="module")
def faces(tiny_model_dir) -> FaceModel:
    return FaceModel.load(tiny_model_dir)


def picture(*squares, size=(640, 640)) -> tuple[Image.Image, list[tuple[int, ...]]]:
    """A black picture with tiny-detector faces: each square is (cx, cy, half_size, fill)."""
    image = Image.new("RGB", size)
    draw = ImageDraw.Draw(image)
    boxes = [draw_tiny_face(draw, (cx, cy), half, fill) for cx, cy, half, fill in squares]
    return image, boxes


WHITE, GREY = (255, 255, 255), (150, 150, 150)


# --- the pack's format ------------------------------------------------------------------


def test_pack_has_insightface_names_and_shapes(tiny_model_dir):
    pack = face_pack_dir(tiny_model_dir, "buffalo_l")
    assert pack == tiny_model_dir / "faces" / "buffalo_l"
    detector = ort.InferenceSession(str(pack / "det_10g.onnx"))
    [image] = detector.get_inputs()
    assert image.name == "input.1" and image.shape[:2] == [1, 3]
    assert all(isinstance(d, str) for d in image.shape[2:])  # dynamic height and width
    blob = np.zeros((1, 3, 640, 640), dtype=np.float32)
    shapes = [out.shape for out in detector.run(None, {"input.1": blob})]
    cells = [80 * 80 * 2, 40 * 40 * 2, 20 * 20 * 2]
    assert shapes == [(n, k) for k in (1, 4, 10) for n in cells]
    recognizer = ort.InferenceSession(str(pack / "w600k_r50.onnx"))
    assert recognizer.get_inputs()[0].shape[1:] == [3, 112, 112]
    crops = np.zeros((3, 3, 112, 112), dtype=np.float32)
    assert recognizer.run(None, {"input.1": crops})[0].shape == (3, 512)


def test_load_reports_name_and_device(faces):
    assert (faces.name, faces.device) == ("buffalo_l", "cpu")


# --- detection --------------------------------------------------------------------------


def test_face_is_found_where_it_is_drawn(faces):
    image, [box] = picture((288, 192, 32, WHITE))
    [face] = faces.detect(image)
    np.testing.assert_allclose(face.box, box, atol=1e-3)
    assert face.score > 0.95
    assert face.landmarks.shape == (5, 2)
    x1, y1, x2, y2 = box
    assert np.all((face.landmarks >= [x1, y1]) & (face.landmarks <= [x2, y2]))
    assert face.landmarks[0, 0] < face.landmarks[1, 0]  # left eye left of the right eye
    assert face.embedding.shape == (512,) and face.embedding.dtype == np.float32
    assert np.linalg.norm(face.embedding) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("color", [(0, 0, 0), (255, 255, 255), (120, 60, 200)])
def test_plain_pictures_have_no_faces(faces, color):
    assert faces.detect(Image.new("RGB", (640, 480), color)) == []


def test_noise_has_no_faces(faces):
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    assert faces.detect(Image.fromarray(noise)) == []


def test_faces_of_every_stride_are_found_once(faces):
    image, boxes = picture((288, 192, 32, WHITE), (480, 480, 16, WHITE), (96, 480, 8, WHITE))
    found = sorted(tuple(round(v) for v in face.box) for face in faces.detect(image))
    assert found == sorted(boxes)


def test_min_score_filters_faces(faces):
    image, (bright, dim) = picture((160, 160, 32, WHITE), (480, 480, 32, GREY))
    assert len(faces.detect(image, min_score=0.5)) == 2
    [face] = faces.detect(image, min_score=0.8)
    np.testing.assert_allclose(face.box, bright, atol=1e-3)
    assert faces.detect(image, min_score=0.99) == []


def test_boxes_are_in_original_pixels(faces):
    # 1280x960 is halved into the detector's 640 frame; a 128-pixel square becomes 64.
    image, [box] = picture((576, 384, 64, WHITE), size=(1280, 960))
    [face] = faces.detect(image)
    np.testing.assert_allclose(face.box, box, atol=1e-3)
    # A tall picture is padded on the right; coordinates still map back.
    image, [box] = picture((160, 320, 32, WHITE), size=(320, 640))
    [face] = faces.detect(image)
    np.testing.assert_allclose(face.box, box, atol=1e-3)


def test_detect_accepts_any_image_mode(faces):
    image, _ = picture((288, 192, 32, WHITE))
    assert len(faces.detect(image.convert("L"))) == 1
    assert len(faces.detect(image.convert("RGBA"))) == 1


# --- recognition ------------------------------------------------------------------------


def test_same_face_gives_same_embedding_and_another_face_another(faces):
    yellow, cyan = (255, 255, 160), (160, 255, 255)  # equally bright, so equally detected
    image, _ = picture((160, 160, 32, yellow), (480, 160, 32, yellow), (320, 480, 32, cyan))
    found = sorted(faces.detect(image), key=lambda face: (face.box[1], face.box[0]))
    assert len(found) == 3
    first, second, other = (face.embedding for face in found)
    assert float(first @ second) > 0.999
    assert float(first @ other) < 0.95


def test_alignment_maps_landmarks_onto_the_template():
    rng = np.random.default_rng(0)
    angle, scale, shift = 0.5, 2.3, np.array([40.0, -12.0])
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    points = rng.uniform(0, 100, (5, 2))
    moved = scale * points @ rotation.T + shift
    matrix = similarity_transform(points, moved)
    np.testing.assert_allclose(matrix[:, :2], scale * rotation, atol=1e-4)
    np.testing.assert_allclose(matrix[:, 2], shift, atol=1e-3)
    # A face whose landmarks already sit on the template is copied unchanged.
    crop = rng.integers(0, 256, (112, 112, 3), dtype=np.uint8)
    np.testing.assert_array_equal(align_face(crop, ARCFACE_TEMPLATE), crop)


def test_nms_keeps_the_best_of_overlapping_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30]], dtype=np.float32)
    assert _nms(boxes, np.array([0.6, 0.9, 0.7]), 0.4) == [1, 2]
    assert _nms(np.zeros((0, 4)), np.zeros(0), 0.4) == []


# --- model files ------------------------------------------------------------------------


def test_missing_pack_names_the_detector_file_and_the_setting(tmp_path):
    with pytest.raises(ModelMissing) as missing:
        FaceModel.load(tmp_path)
    expected = str(tmp_path / "faces" / "buffalo_l" / "det_10g.onnx")
    assert missing.value.task == "faces" and missing.value.path == expected
    assert expected in str(missing.value) and "PHOTO_AI_MODEL_DIR" in str(missing.value)


def test_usual_file_names_of_packs(tmp_path):
    pack = tmp_path / "faces" / "buffalo_l"
    assert face_pack_files(tmp_path, "buffalo_l") == (
        pack / "det_10g.onnx",
        pack / "w600k_r50.onnx",
    )
    assert face_pack_files(tmp_path, "antelopev2")[1].name == "glintr100.onnx"


def test_missing_recognizer_is_named(tmp_path, tiny_model_dir):
    pack = face_pack_dir(tmp_path, "buffalo_l")
    pack.mkdir(parents=True)
    shutil.copy(face_pack_dir(tiny_model_dir, "buffalo_l") / "det_10g.onnx", pack)
    with pytest.raises(ModelMissing, match="w600k_r50.onnx"):
        FaceModel.load(tmp_path)


def test_models_are_told_apart_by_shape_not_name(tmp_path, tiny_model_dir):
    source = face_pack_dir(tiny_model_dir, "buffalo_l")
    pack = face_pack_dir(tmp_path, "my_pack")
    pack.mkdir(parents=True)
    shutil.copy(source / "det_10g.onnx", pack / "b_detector.onnx")
    shutil.copy(source / "w600k_r50.onnx", pack / "a_recognizer.onnx")
    model = FaceModel.load(tmp_path, "my_pack")
    assert model.name == "my_pack"
    assert len(model.detect(picture((288, 192, 32, WHITE))[0])) == 1


def test_other_pack_layouts_are_written_under_their_own_names(tmp_path):
    pack = make_tiny_face_pack(tmp_path, "buffalo_s")
    assert sorted(p.name for p in pack.iterdir()) == ["det_500m.onnx", "w600k_mbf.onnx"]
    assert FaceModel.load(tmp_path, "buffalo_s").name == "buffalo_s"


def test_wrong_model_under_the_detector_name_is_a_clear_error(tmp_path, tiny_model_dir):
    pack = face_pack_dir(tmp_path, "buffalo_l")
    pack.mkdir(parents=True)
    shutil.copy(
        face_pack_dir(tiny_model_dir, "buffalo_l") / "w600k_r50.onnx", pack / "det_10g.onnx"
    )
    with pytest.raises(ValueError, match="det_10g.onnx is not a SCRFD face detection model"):
        FaceModel.load(tmp_path)


def test_corrupt_model_file_is_a_clear_error(tmp_path):
    pack = face_pack_dir(tmp_path, "buffalo_l")
    pack.mkdir(parents=True)
    (pack / "det_10g.onnx").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="cannot load face model .*det_10g.onnx"):
        FaceModel.load(tmp_path)


def test_cuda_request_without_cuda_runtime_falls_back_to_cpu(tiny_model_dir):
    if "CUDAExecutionProvider" in ort.get_available_providers():
        pytest.skip("onnxruntime has CUDA here")
    assert FaceModel.load(tiny_model_dir, device="cuda").device == "cpu"
