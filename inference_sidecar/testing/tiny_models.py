"""Tiny models in the real on-disk formats, for tests and benchmarks (never for users).

- `make_tiny_clip_checkpoint` writes a randomly initialised Chinese-CLIP checkpoint with the
  real keys (`module.` prefix, `state_dict` wrapper, fp16 tensors, the Chinese BERT vocabulary)
  but small widths; it embeds into 512 dimensions like the real ViT-B-16.
- `make_tiny_face_pack` writes `det_10g.onnx` and `w600k_r50.onnx` with the real input and
  output names, counts and shapes. The detector is hand-built, not random: at each stride s it
  scores a centre-minus-surround brightness filter, so it finds a bright square of side 2*s
  centred on a multiple of s (in the 640x640 detector frame) on a darker background, with a
  box that is exactly the square; `draw_tiny_face` draws one. The recogniser is random.

Run `python -m inference_sidecar.testing.tiny_models MODEL_DIR` to write both.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from PIL import ImageDraw

from inference_sidecar.models.clip import (
    DEFAULT_HEAD_WIDTH,
    VISION_HEAD_WIDTH,
    BertSpec,
    ChineseClip,
    ClipArchitecture,
    ResNetSpec,
    VitSpec,
    clip_checkpoint_path,
    default_tokenizer,
)
from inference_sidecar.models.faces import (
    ARCFACE_TEMPLATE,
    face_pack_dir,
    face_pack_files,
)

TINY_EMBED_DIM = 512  # the database stores vector(512), so even the tiny model embeds into 512

# ---------------------------------------------------------------------------------------------
# Chinese-CLIP


def tiny_clip_architecture(name: str, vocab_size: int) -> ClipArchitecture:
    """The smallest network of `name`'s family: one attention head per layer, two layers."""
    text = BertSpec(
        vocab_size=vocab_size,
        hidden=DEFAULT_HEAD_WIDTH,
        layers=2,
        heads=1,
        intermediate=4 * DEFAULT_HEAD_WIDTH,
        max_positions=512,
        type_vocab_size=2,
    )
    resolution = 336 if name.endswith("-336") else 224
    if name.startswith("RN"):
        width = 8  # the attention pool works on width * 32 = 256 channels, 4 heads of 64
        vision = ResNetSpec(width, (1, 1, 1, 1), width * 32 // DEFAULT_HEAD_WIDTH, resolution)
    else:
        patch = int(re.search(r"-(\d+)", name).group(1))  # ViT-B-16 -> 16
        width = VISION_HEAD_WIDTH.get(name, DEFAULT_HEAD_WIDTH)
        vision = VitSpec(width, 2, 1, patch, resolution)
    return ClipArchitecture(embed_dim=TINY_EMBED_DIM, vision=vision, text=text)


# CLIP's bare nn.Parameters, which no torch module initialises.
CLIP_EMBEDDINGS = (
    "visual.class_embedding",
    "visual.positional_embedding",
    "visual.attnpool.positional_embedding",
)
CLIP_PROJECTIONS = ("visual.proj", "text_projection")


def _random_clip(arch: ClipArchitecture, seed: int) -> ChineseClip:
    """torch's default initialisation, with CLIP's own scale for its bare parameters."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ChineseClip(arch)
        params = dict(model.named_parameters())
        for name in CLIP_EMBEDDINGS + CLIP_PROJECTIONS:
            if name in params:
                # x @ projection: scale by the input width; embeddings: by their own width
                fan = params[name].shape[0 if name in CLIP_PROJECTIONS else -1]
                torch.nn.init.normal_(params[name], std=fan**-0.5)
        model.logit_scale.data.fill_(math.log(1 / 0.07))
    return model


def make_tiny_clip_checkpoint(model_dir: Path, name: str = "ViT-B-16", seed: int = 0) -> Path:
    """Write `<model_dir>/clip/<real file name>` as Chinese-CLIP's training saves it."""
    path = clip_checkpoint_path(model_dir, name)
    arch = tiny_clip_architecture(name, len(default_tokenizer().vocab))
    state = _random_clip(arch, seed).state_dict()
    hidden = arch.text.hidden
    # Released checkpoints still carry the BERT pooler that cn_clip does not use.
    state["bert.pooler.dense.weight"] = torch.zeros(hidden, hidden)
    state["bert.pooler.dense.bias"] = torch.zeros(hidden)
    state_dict = {
        f"module.{key}": value.half() if value.is_floating_point() else value
        for key, value in state.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"epoch": 1, "step": 1, "name": f"tiny-{name}", "state_dict": state_dict}, path)
    return path


# ---------------------------------------------------------------------------------------------
# InsightFace pack

DETECTOR_INPUT = "input.1"
# det_10g.onnx's own output names: scores, boxes, landmarks, each for strides 8, 16, 32.
DETECTOR_OUTPUTS = {
    "score": ("448", "471", "494"),
    "bbox": ("451", "474", "497"),
    "kps": ("454", "477", "500"),
}
TINY_STRIDES = (8, 16, 32)
ANCHORS = 2
RECOGNIZER_INPUT, RECOGNIZER_OUTPUT = "input.1", "683"  # w600k_r50.onnx's names
# Score logit = min over the 4 strips around the centre of GAIN * (mean brightness of the
# centre - mean of the strip) + BIAS, brightness in the detector's (pixel - 127.5) / 128 units:
# a white square on black scores sigmoid(4 * 2 - 4) = 0.98, a grey (150) one 0.67, a blank
# picture 0.018. Taking the weakest strip keeps a corner of a bigger bright area from firing.
GAIN, BIAS = 4.0, -4.0
OPSET = 17


def _strip_contrast_kernels(stride: int) -> np.ndarray:
    """(4, 3, 4s, 4s) conv weights: centre 2s x 2s mean minus the mean of one surrounding strip.

    The strips tile the ring between the 2s centre and the 4s window: top, bottom, left, right.
    """
    s = stride
    strips = [
        (slice(0, s), slice(0, 4 * s)),
        (slice(3 * s, 4 * s), slice(0, 4 * s)),
        (slice(s, 3 * s), slice(0, s)),
        (slice(s, 3 * s), slice(3 * s, 4 * s)),
    ]
    kernels = np.zeros((len(strips), 3, 4 * s, 4 * s), dtype=np.float32)
    for k, (rows, cols) in enumerate(strips):
        strip = np.zeros((4 * s, 4 * s), dtype=np.float32)
        strip[rows, cols] = 1.0
        kernel = -strip / strip.sum()
        kernel[s : 3 * s, s : 3 * s] = 1.0 / (2 * s) ** 2
        kernels[k] = GAIN * kernel / 3  # the three channels are averaged into one brightness
    return kernels


def _landmark_offsets() -> np.ndarray:
    """The ArcFace template's 5 points relative to the crop centre, in half-crop units.

    With these the aligned 112x112 crop of a detected square is the square itself.
    """
    return ((ARCFACE_TEMPLATE - 56.0) / 56.0).reshape(-1)


class _GraphBuilder:
    def __init__(self):
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], **attributes))
        return output

    def conv(self, name: str, weight: np.ndarray, bias: np.ndarray, stride: int, pads) -> str:
        w = self.constant(f"{name}_w", weight.astype(np.float32))
        b = self.constant(f"{name}_b", bias.astype(np.float32))
        kernel = list(weight.shape[2:])
        return self.node(
            "Conv",
            [DETECTOR_INPUT, w, b],
            name,
            kernel_shape=kernel,
            strides=[stride] * 2,
            pads=pads,
        )

    def rows(self, tensor: str, values: int, output: str) -> str:
        """(1, anchors * values, h, w) -> (h * w * anchors, values): SCRFD's exported layout."""
        nhwc = self.node("Transpose", [tensor], f"{tensor}_nhwc", perm=[0, 2, 3, 1])
        shape = self.constant(f"{tensor}_rows", np.array([-1, values], dtype=np.int64))
        return self.node("Reshape", [nhwc, shape], output)


def _score_head(graph: _GraphBuilder, stride: int, output: str) -> None:
    # The 4s window of each output cell is centred on the cell's top-left corner (its anchor).
    contrast = graph.conv(
        f"score{stride}",
        _strip_contrast_kernels(stride),
        np.full(4, BIAS),
        stride,
        pads=[2 * stride, 2 * stride, stride, stride],
    )
    weakest = graph.node("ReduceMin", [contrast], f"{contrast}_min", axes=[1], keepdims=1)
    score = graph.node("Sigmoid", [weakest], f"{contrast}_sigmoid")
    both_anchors = graph.node("Concat", [score] * ANCHORS, f"{contrast}_anchors", axis=1)
    graph.rows(both_anchors, 1, output)


def _constant_head(graph: _GraphBuilder, name: str, stride: int, values, output: str) -> None:
    """The same prediction everywhere: a zero 1x1 conv whose bias holds `values`."""
    zeros = np.zeros((ANCHORS * len(values), 3, 1, 1))
    tensor = graph.conv(name, zeros, np.tile(values, ANCHORS), stride, pads=[0] * 4)
    graph.rows(tensor, len(values), output)


def _output_info(name: str, values: int):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, ["cells", values])


def tiny_detector() -> onnx.ModelProto:
    graph = _GraphBuilder()
    for index, stride in enumerate(TINY_STRIDES):
        _score_head(graph, stride, DETECTOR_OUTPUTS["score"][index])
        # Boxes and landmarks do not depend on the picture: a square of side 2s around the
        # anchor (1 stride to each side) with the template's landmarks inside it.
        _constant_head(graph, f"bbox{stride}", stride, np.ones(4), DETECTOR_OUTPUTS["bbox"][index])
        kps = _landmark_offsets()
        _constant_head(graph, f"kps{stride}", stride, kps, DETECTOR_OUTPUTS["kps"][index])
    outputs = [
        _output_info(name, values)
        for kind, values in (("score", 1), ("bbox", 4), ("kps", 10))
        for name in DETECTOR_OUTPUTS[kind]
    ]
    image = helper.make_tensor_value_info(DETECTOR_INPUT, TensorProto.FLOAT, [1, 3, "?", "?"])
    onnx_graph = helper.make_graph(graph.nodes, "tiny_scrfd", [image], outputs, graph.initializers)
    return _model(onnx_graph)


def tiny_recognizer(seed: int) -> onnx.ModelProto:
    """112x112 face -> 8x8 average pool -> linear 588 -> 512. Random, but content-sensitive."""
    rng = np.random.default_rng(seed)
    features = 3 * 14 * 14
    weight = rng.normal(0, features**-0.5, (TINY_EMBED_DIM, features)).astype(np.float32)
    nodes = [
        helper.make_node(
            "AveragePool", [RECOGNIZER_INPUT], ["pooled"], kernel_shape=[8, 8], strides=[8, 8]
        ),
        helper.make_node("Flatten", ["pooled"], ["flat"], axis=1),
        helper.make_node("Gemm", ["flat", "fc_w", "fc_b"], [RECOGNIZER_OUTPUT], transB=1),
    ]
    initializers = [
        numpy_helper.from_array(weight, "fc_w"),
        numpy_helper.from_array(np.zeros(TINY_EMBED_DIM, dtype=np.float32), "fc_b"),
    ]
    face = helper.make_tensor_value_info(RECOGNIZER_INPUT, TensorProto.FLOAT, ["None", 3, 112, 112])
    embedding = helper.make_tensor_value_info(
        RECOGNIZER_OUTPUT, TensorProto.FLOAT, ["None", TINY_EMBED_DIM]
    )
    graph = helper.make_graph(nodes, "tiny_arcface", [face], [embedding], initializers)
    return _model(graph)


def _model(graph: onnx.GraphProto) -> onnx.ModelProto:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # readable by every onnxruntime this project supports
    onnx.checker.check_model(model, full_check=True)
    return model


def make_tiny_face_pack(model_dir: Path, pack: str = "buffalo_l", seed: int = 0) -> Path:
    """Write the pack's detector and recogniser files into `<model_dir>/faces/<pack>/`."""
    pack_dir = face_pack_dir(model_dir, pack)
    pack_dir.mkdir(parents=True, exist_ok=True)
    detector, recognizer = face_pack_files(model_dir, pack)
    onnx.save(tiny_detector(), detector)
    onnx.save(tiny_recognizer(seed), recognizer)
    return pack_dir


def draw_tiny_face(
    draw: ImageDraw.ImageDraw,
    center: tuple[int, int],
    half_size: int = 32,
    fill: tuple[int, int, int] = (255, 255, 255),
) -> tuple[int, int, int, int]:
    """Draw a square the tiny detector finds; returns its box (x1, y1, x2, y2).

    In a 640x640 picture (the detector's own frame) the centre must be a multiple of
    `half_size`, and `half_size` one of 8, 16, 32; in a larger or smaller picture scale both
    by (longest side / 640). The background should be dark.
    """
    x, y = center
    box = (x - half_size, y - half_size, x + half_size, y + half_size)
    draw.rectangle((box[0], box[1], box[2] - 1, box[3] - 1), fill=fill)  # PIL's end is inclusive
    return box


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("--clip-model", default="ViT-B-16")
    parser.add_argument("--face-pack", default="buffalo_l")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(make_tiny_clip_checkpoint(args.model_dir, args.clip_model, args.seed))
    print(make_tiny_face_pack(args.model_dir, args.face_pack, args.seed))


if __name__ == "__main__":
    main()
