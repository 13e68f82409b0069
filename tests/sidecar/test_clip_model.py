"""Chinese-CLIP loading and encoding, in process, on tiny checkpoints in the real format.

Random weights say nothing about meaning, so these tests check shapes, determinism, the
checkpoint format, errors, and that our network computes exactly what cn_clip's own code
computes (cn_clip's model module is pure torch; only its package __init__ needs torchvision).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from inference_sidecar.errors import ModelMissing
from inference_sidecar.models.clip import (
    CLIP_FILES,
    ChineseClip,
    ClipArchitecture,
    ClipModel,
    clip_checkpoint_path,
    default_tokenizer,
)
from inference_sidecar.models.preprocess import clip_pixels
from inference_sidecar.testing.tiny_models import make_tiny_clip_checkpoint

TEXTS = [
    "海边的狗",
    "一张发票，金额 ¥1,234.50",
    "Hello, World! Ünïcode café",
    "北京市海淀区 2024年",
    "ｆｕｌｌｗｉｄｔｈ　全角 😀",
    "a\tb\nc\x00d\u200be",
    "x" * 300,
    "长" * 80,
    "",
]
# How cn_clip pairs image towers and text towers (cn_clip.clip.utils._MODEL_INFO).
CN_CLIP_STRUCTS = {
    "ViT-B-16": ("ViT-B-16", "RoBERTa-wwm-ext-base-chinese"),
    "ViT-L-14": ("ViT-L-14", "RoBERTa-wwm-ext-base-chinese"),
    "ViT-L-14-336": ("ViT-L-14-336", "RoBERTa-wwm-ext-base-chinese"),
    "ViT-H-14": ("ViT-H-14", "RoBERTa-wwm-ext-large-chinese"),
    "RN50": ("RN50", "RBT3-chinese"),
}


@pytest.fixture(scope="module")
def clip(tiny_model_dir) -> ClipModel:
    return ClipModel.load(tiny_model_dir)


def pictures() -> list[Image.Image]:
    rng = np.random.default_rng(1)
    noise = Image.fromarray(rng.integers(0, 256, (300, 200, 3), dtype=np.uint8))
    return [
        Image.new("RGB", (640, 480), (200, 30, 30)),
        Image.new("RGB", (17, 900), (20, 40, 220)),
        noise,
    ]


# --- the checkpoint format ---------------------------------------------------------------


def test_tiny_checkpoint_is_in_chinese_clip_format(tiny_model_dir):
    path = tiny_model_dir / "clip" / "clip_cn_vit-b-16.pt"
    assert path.stat().st_size < 8_000_000
    checkpoint = torch.load(path, weights_only=True)
    sd = checkpoint["state_dict"]
    assert all(key.startswith("module.") for key in sd)
    assert sd["module.visual.conv1.weight"].shape[-1] == 16  # ViT-B-16's patch size
    assert sd["module.bert.embeddings.word_embeddings.weight"].shape[0] == 21128
    assert sd["module.text_projection"].shape[1] == 512
    assert sd["module.visual.proj"].dtype == torch.float16
    assert "module.logit_scale" in sd and "module.bert.pooler.dense.weight" in sd


def test_checkpoint_path_uses_chinese_clip_file_names(tmp_path):
    assert clip_checkpoint_path(tmp_path, "ViT-B-16") == tmp_path / "clip" / "clip_cn_vit-b-16.pt"
    assert clip_checkpoint_path(tmp_path, "RN50").name == "clip_cn_rn50.pt"
    assert clip_checkpoint_path(tmp_path, "ViT-L-14").name == "clip_cn_vit-l-14.pt"
    with pytest.raises(ValueError, match="ViT-B-16"):
        clip_checkpoint_path(tmp_path, "ViT-X-99")


@pytest.mark.parametrize("name", sorted(CN_CLIP_STRUCTS))
def test_architecture_read_from_shapes_matches_cn_clip_configs(cn_clip_reference, name):
    """For each real model, cn_clip's own CLIP built from its JSON configs (on the meta device,
    so no memory) has exactly the state dict layout and head counts we derive."""
    reference = _reference_from_configs(cn_clip_reference, name)
    shapes = {k: v for k, v in reference.state_dict().items()}
    arch = ClipArchitecture.from_state_dict(shapes, name)
    with torch.device("meta"):
        ours = ChineseClip(arch)
    ours_shapes = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert ours_shapes == {k: tuple(v.shape) for k, v in shapes.items()}
    assert arch.text.heads == reference.bert_config.num_attention_heads
    if name != "RN50":
        assert arch.vision.heads == reference.visual.transformer.resblocks[0].attn.num_heads
    else:
        assert arch.vision.heads == reference.visual.attnpool.num_heads


# --- encoding ---------------------------------------------------------------------------


def test_load_reports_name_dim_and_device(clip):
    assert (clip.name, clip.dim, clip.device) == ("ViT-B-16", 512, "cpu")


def test_text_embeddings_are_unit_float32_and_deterministic(clip):
    embeddings = clip.encode_texts(["海边的狗", "海边的狗", "一只猫"])
    assert embeddings.shape == (3, 512) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(embeddings[0], embeddings[1], atol=1e-6)
    assert not np.allclose(embeddings[0], embeddings[2], atol=1e-3)


def test_text_embedding_does_not_depend_on_its_batch(clip):
    alone = clip.encode_texts(["狗"])
    batched = clip.encode_texts(["狗", "一段很长的描述" * 10])
    np.testing.assert_allclose(alone[0], batched[0], atol=1e-5)


def test_image_embeddings_are_unit_float32_and_differ(clip):
    embeddings = clip.encode_images(pictures())
    assert embeddings.shape == (3, 512) and embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)
    similarities = embeddings @ embeddings.T
    assert np.all(similarities[~np.eye(3, dtype=bool)] < 0.999)
    np.testing.assert_allclose(clip.encode_images(pictures()[:1])[0], embeddings[0], atol=1e-6)


def test_images_of_any_mode_and_size_are_encoded(clip):
    odd = [Image.new("L", (1, 1), 128), Image.new("RGBA", (4000, 3), (1, 2, 3, 4))]
    assert clip.encode_images(odd).shape == (2, 512)


def test_empty_requests_give_empty_arrays(clip):
    assert clip.encode_texts([]).shape == (0, 512)
    assert clip.encode_images([]).shape == (0, 512)


def test_fp16_gives_nearly_the_fp32_embeddings(tiny_model_dir, clip):
    half = ClipModel.load(tiny_model_dir, fp16=True)
    texts, images = ["海边的狗", "发票"], pictures()
    assert np.all(np.sum(half.encode_texts(texts) * clip.encode_texts(texts), axis=1) > 0.99)
    assert np.all(np.sum(half.encode_images(images) * clip.encode_images(images), axis=1) > 0.99)


@pytest.mark.parametrize("name", ["RN50", "ViT-L-14", "ViT-H-14"])
def test_other_architectures_load_through_the_same_path(tmp_path, name):
    make_tiny_clip_checkpoint(tmp_path, name)
    model = ClipModel.load(tmp_path, name)
    assert (model.name, model.dim) == (name, 512)
    assert model.encode_images(pictures()[:2]).shape == (2, 512)
    assert model.encode_texts(["猫"]).shape == (1, 512)


def test_seed_changes_the_weights(tmp_path):
    make_tiny_clip_checkpoint(tmp_path / "a", seed=1)
    make_tiny_clip_checkpoint(tmp_path / "b", seed=1)
    make_tiny_clip_checkpoint(tmp_path / "c", seed=2)
    texts = ["猫"]
    a, b, c = (ClipModel.load(tmp_path / d).encode_texts(texts) for d in "abc")
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


# --- errors -----------------------------------------------------------------------------


def test_missing_checkpoint_names_the_file_and_the_setting(tmp_path):
    with pytest.raises(ModelMissing) as missing:
        ClipModel.load(tmp_path)
    expected = str(tmp_path / "clip" / "clip_cn_vit-b-16.pt")
    assert missing.value.task == "clip" and missing.value.path == expected
    assert expected in str(missing.value) and "PHOTO_AI_MODEL_DIR" in str(missing.value)


def checkpoint_file(model_dir: Path) -> Path:
    """Where ClipModel.load(model_dir) reads ViT-B-16, its folder made."""
    path = clip_checkpoint_path(model_dir, "ViT-B-16")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def tiny_checkpoint(model_dir: Path) -> dict:
    return torch.load(clip_checkpoint_path(model_dir, "ViT-B-16"), weights_only=True)


def test_garbage_file_is_a_clear_error(tmp_path):
    checkpoint_file(tmp_path).write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match="cannot read CLIP checkpoint .*clip_cn_vit-b-16.pt"):
        ClipModel.load(tmp_path)


def test_truncated_checkpoint_is_a_clear_error(tmp_path, tiny_model_dir):
    data = clip_checkpoint_path(tiny_model_dir, "ViT-B-16").read_bytes()
    checkpoint_file(tmp_path).write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="clip_cn_vit-b-16.pt"):
        ClipModel.load(tmp_path)


def test_other_torch_file_is_not_taken_for_a_clip_checkpoint(tmp_path):
    torch.save({"state_dict": {"module.fc.weight": torch.zeros(2, 2)}}, checkpoint_file(tmp_path))
    with pytest.raises(ValueError, match="not a Chinese-CLIP checkpoint"):
        ClipModel.load(tmp_path)


def test_checkpoint_with_extra_or_missing_tensors_is_refused(tmp_path, tiny_model_dir):
    checkpoint = tiny_checkpoint(tiny_model_dir)
    del checkpoint["state_dict"]["module.visual.ln_post.weight"]
    checkpoint["state_dict"]["module.visual.extra"] = torch.zeros(1)
    torch.save(checkpoint, checkpoint_file(tmp_path))
    with pytest.raises(ValueError, match="visual.ln_post.weight"):
        ClipModel.load(tmp_path)


def test_checkpoint_with_a_misshapen_tensor_is_refused(tmp_path, tiny_model_dir):
    checkpoint = tiny_checkpoint(tiny_model_dir)
    checkpoint["state_dict"]["module.visual.ln_post.weight"] = torch.zeros(3)
    torch.save(checkpoint, checkpoint_file(tmp_path))
    with pytest.raises(ValueError, match="not a consistent Chinese-CLIP checkpoint"):
        ClipModel.load(tmp_path)


# --- the same numbers as cn_clip ---------------------------------------------------------


@pytest.fixture(scope="module")
def cn_clip_reference():
    """cn_clip's model and tokenizer modules, imported without cn_clip/clip/__init__.py.

    That __init__ imports torchvision (absent here) for image transforms we do not use; an
    empty package module put in its place lets the pure-torch modules import normally.
    """
    pytest.importorskip("six")  # cn_clip's tokenizer module needs it
    spec = importlib.util.find_spec("cn_clip")
    if spec is None:
        pytest.skip("cn_clip is not installed")
    package_dir = Path(next(iter(spec.submodule_search_locations))) / "clip"
    saved = {k: v for k, v in sys.modules.items() if k.startswith("cn_clip.clip")}
    package = types.ModuleType("cn_clip.clip")
    package.__path__ = [str(package_dir)]
    sys.modules["cn_clip.clip"] = package
    try:
        package._tokenizer = importlib.import_module("cn_clip.clip.bert_tokenizer").FullTokenizer()
        model_module = importlib.import_module("cn_clip.clip.model")
        yield types.SimpleNamespace(
            tokenizer=package._tokenizer, model=model_module, configs=package_dir / "model_configs"
        )
    finally:
        for key in [k for k in sys.modules if k.startswith("cn_clip.clip")]:
            del sys.modules[key]
        sys.modules.update(saved)


def _reference_from_configs(reference, name: str):
    vision, text = CN_CLIP_STRUCTS[name]
    config = json.loads((reference.configs / f"{vision}.json").read_text())
    config.update(json.loads((reference.configs / f"{text}.json").read_text()))
    if isinstance(config["vision_layers"], str):
        config["vision_layers"] = json.loads(config["vision_layers"])
    with torch.device("meta"):
        return reference.model.CLIP(**config)


def _reference_from_checkpoint(reference, path: Path, clip: ClipModel):
    sd = torch.load(path, weights_only=True)["state_dict"]
    sd = {k.removeprefix("module."): v for k, v in sd.items() if "bert.pooler" not in k}
    arch = ClipArchitecture.from_state_dict(sd, clip.name)
    vision, text = arch.vision, arch.text
    config = dict(
        embed_dim=arch.embed_dim,
        image_resolution=vision.resolution,
        vocab_size=text.vocab_size,
        text_attention_probs_dropout_prob=0.0,
        text_hidden_act="gelu",
        text_hidden_dropout_prob=0.0,
        text_hidden_size=text.hidden,
        text_initializer_range=0.02,
        text_intermediate_size=text.intermediate,
        text_max_position_embeddings=text.max_positions,
        text_num_attention_heads=text.heads,
        text_num_hidden_layers=text.layers,
        text_type_vocab_size=text.type_vocab_size,
    )
    if clip.name.startswith("RN"):
        config.update(vision_layers=list(vision.layers), vision_width=vision.width)
        config.update(vision_patch_size=None)
    else:
        config.update(vision_layers=vision.layers, vision_width=vision.width)
        config.update(vision_patch_size=vision.patch_size)
    model = reference.model.CLIP(**config)
    model.load_state_dict(sd)
    return model.float().eval()


def test_tokenizer_matches_cn_clip(cn_clip_reference):
    ours, theirs = default_tokenizer(), cn_clip_reference.tokenizer
    for text in TEXTS:
        assert ours.encode(text) == theirs.convert_tokens_to_ids(theirs.tokenize(text)), text


def test_tokens_are_framed_and_truncated_like_cn_clip():
    tokenizer = default_tokenizer()
    ids = tokenizer.batch(["长" * 80, "狗"])
    assert ids.shape == (2, 52)
    assert ids[0, 0] == tokenizer.cls_id and ids[0, -1] == tokenizer.sep_id
    assert ids[1, :3].tolist() == [tokenizer.cls_id, tokenizer.encode("狗")[0], tokenizer.sep_id]
    assert ids[1, 3:].eq(tokenizer.pad_id).all()


@pytest.mark.parametrize("name", ["ViT-B-16", "RN50"])
def test_embeddings_match_cn_clip_model(cn_clip_reference, tmp_path, name):
    path = make_tiny_clip_checkpoint(tmp_path, name, seed=3)
    clip = ClipModel.load(tmp_path, name)
    reference = _reference_from_checkpoint(cn_clip_reference, path, clip)
    tokenizer = default_tokenizer()
    ids = torch.zeros(len(TEXTS), 52, dtype=torch.long)  # cn_clip always pads to 52
    for i, text in enumerate(TEXTS):
        row = [tokenizer.cls_id, *tokenizer.encode(text)[:50], tokenizer.sep_id]
        ids[i, : len(row)] = torch.tensor(row)
    with torch.no_grad():
        pixels = torch.from_numpy(clip_pixels(pictures(), clip.resolution))
        want_images = torch.nn.functional.normalize(reference.encode_image(pixels), dim=-1)
        want_texts = torch.nn.functional.normalize(reference.encode_text(ids), dim=-1)
    np.testing.assert_allclose(clip.encode_images(pictures()), want_images.numpy(), atol=1e-5)
    np.testing.assert_allclose(clip.encode_texts(TEXTS), want_texts.numpy(), atol=1e-5)


def test_known_names_cover_cn_clip_models():
    assert set(CLIP_FILES) == set(CN_CLIP_STRUCTS)
