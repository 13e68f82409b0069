"""Chinese-CLIP (cn_clip checkpoints) without torchvision.

The `cn_clip` package cannot be imported here: `cn_clip/clip/__init__.py` imports torchvision
for its image transform, and torchvision has no CPU build for the pinned torch. So this module
holds its own network definition in plain torch, with the same parameter names as cn_clip's
(`visual.*` ViT or ModifiedResNet, `bert.*` BERT, `text_projection`, `logit_scale`), so every
tensor of a Chinese-CLIP checkpoint finds its parameter by name. Every size is read from the tensor
shapes in the checkpoint; a tiny test checkpoint therefore loads through the same code as a
real one. Preprocessing is PIL + numpy (see preprocess.clip_pixels), and the BERT WordPiece
tokenizer is written here; its vocabulary is the `vocab.txt` that ships inside the `cn_clip`
wheel (installed with --no-deps), read as a file without importing `cn_clip.clip`.
"""

from __future__ import annotations

import importlib.util
import math
import re
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from inference_sidecar.errors import ModelMissing
from inference_sidecar.models.preprocess import clip_pixels

# Checkpoint file names, as Chinese-CLIP publishes them.
CLIP_FILES = {
    "ViT-B-16": "clip_cn_vit-b-16.pt",
    "ViT-L-14": "clip_cn_vit-l-14.pt",
    "ViT-L-14-336": "clip_cn_vit-l-14-336.pt",
    "ViT-H-14": "clip_cn_vit-h-14.pt",
    "RN50": "clip_cn_rn50.pt",
}

# Attention head width is the one size a state dict does not reveal. cn_clip uses 64
# everywhere (ViT towers and all its BERTs) except the ViT-H image tower.
VISION_HEAD_WIDTH = {"ViT-H-14": 80}
DEFAULT_HEAD_WIDTH = 64

CONTEXT_LENGTH = 52  # cn_clip's tokenize(): [CLS] + up to 50 pieces + [SEP]
BATCH_SIZE = 32  # images or texts per forward pass; bounds memory on big requests


def clip_checkpoint_path(model_dir: Path, name: str) -> Path:
    if name not in CLIP_FILES:
        raise ValueError(f"unknown CLIP model {name!r}; known: {', '.join(CLIP_FILES)}")
    return Path(model_dir) / "clip" / CLIP_FILES[name]


# ---------------------------------------------------------------------------------------------
# Architecture, read from a state dict's shapes


@dataclass(frozen=True)
class VitSpec:
    width: int
    layers: int
    heads: int
    patch_size: int
    resolution: int


@dataclass(frozen=True)
class ResNetSpec:
    width: int  # channels after the stem; the last stage has width * 32
    layers: tuple[int, int, int, int]  # bottleneck blocks per stage
    heads: int
    resolution: int


@dataclass(frozen=True)
class BertSpec:
    vocab_size: int
    hidden: int
    layers: int
    heads: int
    intermediate: int
    max_positions: int
    type_vocab_size: int


@dataclass(frozen=True)
class ClipArchitecture:
    embed_dim: int
    vision: VitSpec | ResNetSpec
    text: BertSpec

    @classmethod
    def from_state_dict(cls, sd: dict[str, torch.Tensor], name: str) -> ClipArchitecture:
        """Sizes of every part, from tensor shapes; head counts from the head width of `name`."""
        head_width = VISION_HEAD_WIDTH.get(name, DEFAULT_HEAD_WIDTH)
        vision = _vit_spec(sd, head_width) if "visual.proj" in sd else _resnet_spec(sd)
        return cls(embed_dim=sd["text_projection"].shape[1], vision=vision, text=_bert_spec(sd))


def _count_indexed(sd: dict[str, torch.Tensor], prefix: str) -> int:
    """Number of consecutive blocks `<prefix>0.`, `<prefix>1.`, ... in the state dict."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.")
    indices = {int(m.group(1)) for key in sd if (m := pattern.match(key))}
    return max(indices) + 1 if indices else 0


def _vit_spec(sd: dict[str, torch.Tensor], head_width: int) -> VitSpec:
    width, _, patch, _ = sd["visual.conv1.weight"].shape
    grid = math.isqrt(sd["visual.positional_embedding"].shape[0] - 1)
    return VitSpec(
        width=width,
        layers=_count_indexed(sd, "visual.transformer.resblocks."),
        heads=max(1, width // head_width),
        patch_size=patch,
        resolution=grid * patch,
    )


def _resnet_spec(sd: dict[str, torch.Tensor]) -> ResNetSpec:
    width = sd["visual.conv3.weight"].shape[0]
    grid = math.isqrt(sd["visual.attnpool.positional_embedding"].shape[0] - 1)
    layers = tuple(_count_indexed(sd, f"visual.layer{stage}.") for stage in range(1, 5))
    return ResNetSpec(
        width=width,
        layers=layers,
        heads=max(1, width * 32 // DEFAULT_HEAD_WIDTH),
        resolution=grid * 32,  # the ResNet downsamples by 32 before its attention pool
    )


def _bert_spec(sd: dict[str, torch.Tensor]) -> BertSpec:
    vocab_size, hidden = sd["bert.embeddings.word_embeddings.weight"].shape
    return BertSpec(
        vocab_size=vocab_size,
        hidden=hidden,
        layers=_count_indexed(sd, "bert.encoder.layer."),
        heads=max(1, hidden // DEFAULT_HEAD_WIDTH),
        intermediate=sd["bert.encoder.layer.0.intermediate.dense.weight"].shape[0],
        max_positions=sd["bert.embeddings.position_embeddings.weight"].shape[0],
        type_vocab_size=sd["bert.embeddings.token_type_embeddings.weight"].shape[0],
    )


# ---------------------------------------------------------------------------------------------
# Network. Module and parameter names mirror cn_clip's so its state dicts load strictly.


class LayerNorm(nn.LayerNorm):
    """LayerNorm computed in float32, so it stays accurate when the model runs in fp16."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.weight.float(), self.bias.float()
        return F.layer_norm(x.float(), self.normalized_shape, weight, bias, self.eps).to(x.dtype)


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(width, heads, batch_first=True)
        self.ln_1 = LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(width, width * 4),
                gelu=QuickGELU(),
                c_proj=nn.Linear(width * 4, width),
            )
        )
        self.ln_2 = LayerNorm(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.ln_1(x)
        x = x + self.attn(y, y, y, need_weights=False)[0]
        return x + self.mlp(self.ln_2(x))


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        blocks = [ResidualAttentionBlock(width, heads) for _ in range(layers)]
        self.resblocks = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.resblocks(x)


class VisionTransformer(nn.Module):
    def __init__(self, spec: VitSpec, output_dim: int):
        super().__init__()
        grid = spec.resolution // spec.patch_size
        self.conv1 = nn.Conv2d(3, spec.width, spec.patch_size, stride=spec.patch_size, bias=False)
        self.class_embedding = nn.Parameter(torch.empty(spec.width))
        self.positional_embedding = nn.Parameter(torch.empty(grid * grid + 1, spec.width))
        self.ln_pre = LayerNorm(spec.width)
        self.transformer = Transformer(spec.width, spec.layers, spec.heads)
        self.ln_post = LayerNorm(spec.width)
        self.proj = nn.Parameter(torch.empty(spec.width, output_dim))

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        patches = self.conv1(pixels).flatten(2).transpose(1, 2)  # (n, grid*grid, width)
        cls = self.class_embedding.to(patches.dtype).expand(patches.shape[0], 1, -1)
        x = torch.cat([cls, patches], dim=1) + self.positional_embedding.to(patches.dtype)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x[:, 0]) @ self.proj


class Bottleneck(nn.Module):
    """ResNet bottleneck whose stride is an average pool (anti-aliased), as in CLIP's RN50."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1):
        super().__init__()
        out = planes * self.expansion
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.avgpool = nn.AvgPool2d(stride) if stride > 1 else nn.Identity()
        self.conv3 = nn.Conv2d(planes, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride > 1 or inplanes != out:
            self.downsample = nn.Sequential(
                OrderedDict(
                    [
                        ("-1", nn.AvgPool2d(stride)),
                        ("0", nn.Conv2d(inplanes, out, 1, bias=False)),
                        ("1", nn.BatchNorm2d(out)),
                    ]
                )
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.avgpool(self.relu(self.bn2(self.conv2(out))))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class AttentionPool2d(nn.Module):
    """Pools a feature map by letting its mean attend to every position (CLIP's RN head)."""

    def __init__(self, grid: int, channels: int, heads: int, output_dim: int):
        super().__init__()
        self.positional_embedding = nn.Parameter(torch.empty(grid * grid + 1, channels))
        self.k_proj = nn.Linear(channels, channels)
        self.q_proj = nn.Linear(channels, channels)
        self.v_proj = nn.Linear(channels, channels)
        self.c_proj = nn.Linear(channels, output_dim)
        self.heads = heads

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        tokens = features.flatten(2).transpose(1, 2)  # (n, h*w, c)
        tokens = torch.cat([tokens.mean(dim=1, keepdim=True), tokens], dim=1)
        tokens = tokens + self.positional_embedding.to(tokens.dtype)
        # Only the mean token's output is kept, so only it needs a query.
        q = _split_heads(self.q_proj(tokens[:, :1]), self.heads)
        k = _split_heads(self.k_proj(tokens), self.heads)
        v = _split_heads(self.v_proj(tokens), self.heads)
        pooled = _merge_heads(F.scaled_dot_product_attention(q, k, v))
        return self.c_proj(pooled)[:, 0]


class ModifiedResNet(nn.Module):
    def __init__(self, spec: ResNetSpec, output_dim: int):
        super().__init__()
        width = spec.width
        self.conv1 = nn.Conv2d(3, width // 2, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width // 2)
        self.conv2 = nn.Conv2d(width // 2, width // 2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width // 2)
        self.conv3 = nn.Conv2d(width // 2, width, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(width)
        self.avgpool = nn.AvgPool2d(2)
        self.relu = nn.ReLU(inplace=True)
        inplanes = width
        for stage, blocks in enumerate(spec.layers, start=1):
            planes = width * 2 ** (stage - 1)
            stride = 1 if stage == 1 else 2
            layer = [Bottleneck(inplanes, planes, stride)]
            inplanes = planes * Bottleneck.expansion
            layer += [Bottleneck(inplanes, planes) for _ in range(1, blocks)]
            setattr(self, f"layer{stage}", nn.Sequential(*layer))
        self.attnpool = AttentionPool2d(spec.resolution // 32, width * 32, spec.heads, output_dim)

    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        x = pixels
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2), (self.conv3, self.bn3)):
            x = self.relu(bn(conv(x)))
        x = self.avgpool(x)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.attnpool(x)


def _split_heads(x: torch.Tensor, heads: int) -> torch.Tensor:
    n, length, width = x.shape
    return x.view(n, length, heads, width // heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    n, heads, length, head_width = x.shape
    return x.transpose(1, 2).reshape(n, length, heads * head_width)


class BertEmbeddings(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.word_embeddings = nn.Embedding(spec.vocab_size, spec.hidden, padding_idx=0)
        self.position_embeddings = nn.Embedding(spec.max_positions, spec.hidden)
        self.token_type_embeddings = nn.Embedding(spec.type_vocab_size, spec.hidden)
        self.LayerNorm = LayerNorm(spec.hidden, eps=1e-12)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)
        x = x + self.token_type_embeddings.weight[0]  # one segment: type id 0 everywhere
        return self.LayerNorm(x)


class BertSelfAttention(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.heads = spec.heads
        self.query = nn.Linear(spec.hidden, spec.hidden)
        self.key = nn.Linear(spec.hidden, spec.hidden)
        self.value = nn.Linear(spec.hidden, spec.hidden)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        q, k, v = (_split_heads(proj(x), self.heads) for proj in (self.query, self.key, self.value))
        return _merge_heads(F.scaled_dot_product_attention(q, k, v, attn_mask=keep))


class BertResidualOutput(nn.Module):
    """Dense, then LayerNorm over the residual sum (BERT's 'output' sublayers)."""

    def __init__(self, in_features: int, hidden: int):
        super().__init__()
        self.dense = nn.Linear(in_features, hidden)
        self.LayerNorm = LayerNorm(hidden, eps=1e-12)

    def forward(self, x: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        return self.LayerNorm(self.dense(x) + residual)


class BertAttention(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.self = BertSelfAttention(spec)
        self.output = BertResidualOutput(spec.hidden, spec.hidden)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return self.output(self.self(x, keep), x)


class BertIntermediate(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.dense = nn.Linear(spec.hidden, spec.intermediate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(x))  # the exact (erf) GELU, as BERT was trained with


class BertLayer(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.attention = BertAttention(spec)
        self.intermediate = BertIntermediate(spec)
        self.output = BertResidualOutput(spec.intermediate, spec.hidden)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        attended = self.attention(x, keep)
        return self.output(self.intermediate(attended), attended)


class BertEncoder(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(spec) for _ in range(spec.layers)])

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        for layer in self.layer:
            x = layer(x, keep)
        return x


class BertModel(nn.Module):
    def __init__(self, spec: BertSpec):
        super().__init__()
        self.embeddings = BertEmbeddings(spec)
        self.encoder = BertEncoder(spec)

    def forward(self, ids: torch.Tensor, pad_id: int) -> torch.Tensor:
        keep = (ids != pad_id)[:, None, None, :]  # (n, 1, 1, length): attend to real tokens only
        return self.encoder(self.embeddings(ids), keep)


class ChineseClip(nn.Module):
    def __init__(self, arch: ClipArchitecture):
        super().__init__()
        self.arch = arch
        if isinstance(arch.vision, VitSpec):
            self.visual = VisionTransformer(arch.vision, arch.embed_dim)
        else:
            self.visual = ModifiedResNet(arch.vision, arch.embed_dim)
        self.bert = BertModel(arch.text)
        self.text_projection = nn.Parameter(torch.empty(arch.text.hidden, arch.embed_dim))
        self.logit_scale = nn.Parameter(torch.empty(()))  # kept so checkpoints load strictly

    @property
    def dtype(self) -> torch.dtype:
        return self.text_projection.dtype

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        return self.visual(pixels.to(self.dtype))

    def encode_text(self, ids: torch.Tensor, pad_id: int) -> torch.Tensor:
        hidden = self.bert(ids, pad_id)
        return hidden[:, 0].to(self.dtype) @ self.text_projection  # the [CLS] position


# ---------------------------------------------------------------------------------------------
# Tokenizer: BERT's basic tokenizer + WordPiece, with the Chinese BERT vocabulary.


def vocab_path() -> Path:
    """The `vocab.txt` inside the installed cn_clip wheel (its top package imports nothing)."""
    spec = importlib.util.find_spec("cn_clip")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the cn_clip package provides the CLIP tokenizer vocabulary; install it with "
            "`pip install --no-deps cn_clip==1.6.0`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "clip" / "vocab.txt"


# CJK ideograph blocks, which BERT's basic tokenizer turns into one word per character.
CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_cjk(char: str) -> bool:
    cp = ord(char)
    return any(low <= cp <= high for low, high in CJK_RANGES)


def _is_punctuation(char: str) -> bool:
    cp = ord(char)
    # BERT counts every non-alphanumeric ASCII symbol as punctuation, e.g. "$" and "^".
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _clean_char(char: str) -> str:
    """Whitespace becomes a space, control characters vanish, CJK characters stand alone."""
    if char in "\t\n\r" or unicodedata.category(char) == "Zs":
        return " "
    if char in "\x00\ufffd" or unicodedata.category(char) in ("Cc", "Cf"):
        return ""
    return f" {char} " if _is_cjk(char) else char


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.category(c) != "Mn")


def _basic_words(text: str) -> list[str]:
    """BERT's uncased basic tokenizer: clean, split, lower-case, drop accents, split punctuation."""
    words = []
    for word in "".join(map(_clean_char, text)).split():
        word = _strip_accents(word.lower())
        words.extend("".join(f" {c} " if _is_punctuation(c) else c for c in word).split())
    return words


class BertTokenizer:
    def __init__(self, vocab_file: Path):
        with open(vocab_file, encoding="utf-8") as f:
            self.vocab = {line.strip(): index for index, line in enumerate(f)}
        self.pad_id = self.vocab["[PAD]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.unk_id = self.vocab["[UNK]"]

    def word_pieces(self, word: str) -> list[int]:
        """Greedy longest-match-first WordPiece; an unmatchable word becomes one [UNK]."""
        if len(word) > 200:
            return [self.unk_id]
        pieces, start = [], 0
        while start < len(word):
            for end in range(len(word), start, -1):
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    start = end
                    break
            else:
                return [self.unk_id]
        return pieces

    def encode(self, text: str) -> list[int]:
        return [piece for word in _basic_words(text) for piece in self.word_pieces(word)]

    def batch(self, texts: list[str], context_length: int = CONTEXT_LENGTH) -> torch.Tensor:
        """(n, length) token ids, [CLS] ... [SEP], truncated like cn_clip and padded with [PAD].

        Padding only reaches the longest text of the batch: padded positions are masked out,
        so the [CLS] output is the same as with cn_clip's fixed 52.
        """
        rows = [
            [self.cls_id, *self.encode(text)[: context_length - 2], self.sep_id] for text in texts
        ]
        ids = torch.full((len(rows), max(map(len, rows))), self.pad_id, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
        return ids


@lru_cache(maxsize=1)
def default_tokenizer() -> BertTokenizer:
    return BertTokenizer(vocab_path())


# ---------------------------------------------------------------------------------------------
# Loading


def read_checkpoint(path: Path) -> dict[str, torch.Tensor]:
    """The state dict of a cn_clip checkpoint, with DDP's `module.` prefix removed.

    `weights_only` refuses pickled code, so a checkpoint can never run anything on load.
    """
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"cannot read CLIP checkpoint {path}: {exc}") from exc
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path} is not a Chinese-CLIP checkpoint (not a dict)")
    sd = checkpoint.get("state_dict", checkpoint)
    if not isinstance(sd, dict):
        raise ValueError(f"{path} is not a Chinese-CLIP checkpoint (no state_dict)")
    sd = {k.removeprefix("module."): v for k, v in sd.items() if isinstance(v, torch.Tensor)}
    # cn_clip's text tower has no pooler; older checkpoints still carry its weights.
    return {k: v for k, v in sd.items() if not k.startswith("bert.pooler.")}


def build_model(sd: dict[str, torch.Tensor], name: str, path: Path) -> ChineseClip:
    """A ChineseClip sized from `sd` and holding its tensors; ValueError if they do not fit."""
    try:
        arch = ClipArchitecture.from_state_dict(sd, name)
    except KeyError as exc:
        raise ValueError(f"{path} is not a Chinese-CLIP checkpoint (no tensor {exc})") from exc
    except (IndexError, ValueError) as exc:
        raise ValueError(f"{path} is not a Chinese-CLIP checkpoint ({exc})") from exc
    with torch.device("meta"):  # no memory and no random init for weights about to be replaced
        model = ChineseClip(arch)
    try:
        result = model.load_state_dict(sd, strict=False, assign=True)
    except RuntimeError as exc:  # a tensor whose shape contradicts the others
        raise ValueError(f"{path} is not a consistent Chinese-CLIP checkpoint: {exc}") from exc
    problems = [*result.missing_keys, *result.unexpected_keys]
    if problems:
        raise ValueError(
            f"{path} does not match the Chinese-CLIP {name} layout "
            f"(missing {result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]})"
        )
    return model.eval()


def _resolve_device(device: str) -> str:
    return "cuda" if device == "cuda" and torch.cuda.is_available() else "cpu"


class ClipModel:
    """A loaded Chinese-CLIP model: L2-normalised image and text embeddings."""

    def __init__(self, name: str, model: ChineseClip, tokenizer: BertTokenizer, device: str):
        self.name = name
        self.dim = model.arch.embed_dim
        self.device = device
        self.resolution = model.arch.vision.resolution
        self._model = model
        self._tokenizer = tokenizer

    @classmethod
    def load(
        cls, model_dir: Path, name: str = "ViT-B-16", device: str = "cpu", fp16: bool | None = None
    ) -> ClipModel:
        path = clip_checkpoint_path(model_dir, name)
        if not path.is_file():
            raise ModelMissing("clip", str(path), "PHOTO_AI_MODEL_DIR")
        tokenizer = default_tokenizer()
        model = build_model(read_checkpoint(path), name, path)
        if model.arch.text.vocab_size != len(tokenizer.vocab):
            raise ValueError(
                f"{path}: text vocabulary of {model.arch.text.vocab_size} tokens, but the "
                f"Chinese BERT tokenizer has {len(tokenizer.vocab)}"
            )
        device = _resolve_device(device)
        half = (device == "cuda") if fp16 is None else fp16
        model.to(device=device, dtype=torch.float16 if half else torch.float32)
        return cls(name, model, tokenizer, device)

    @torch.inference_mode()
    def encode_images(self, images: list[Image.Image]) -> np.ndarray:
        chunks = []
        for start in range(0, len(images), BATCH_SIZE):
            pixels = clip_pixels(images[start : start + BATCH_SIZE], self.resolution)
            chunks.append(self._model.encode_image(torch.from_numpy(pixels).to(self.device)))
        return self._normalized(chunks)

    @torch.inference_mode()
    def encode_texts(self, texts: list[str]) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), BATCH_SIZE):
            ids = self._tokenizer.batch(texts[start : start + BATCH_SIZE]).to(self.device)
            chunks.append(self._model.encode_text(ids, self._tokenizer.pad_id))
        return self._normalized(chunks)

    def _normalized(self, chunks: list[torch.Tensor]) -> np.ndarray:
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        features = torch.cat(chunks).float()
        return F.normalize(features, dim=-1).cpu().numpy()
