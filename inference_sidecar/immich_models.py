"""How the model names Immich sends map onto the models this sidecar runs.

Every name maps onto our one model per task: Immich's CLIP setting only decides the
dimension of its `smart_search` column, which must equal our CLIP model's. Immich's server
fixes that dimension from its own table of names (CLIP_MODEL_INFO in Immich v2.x); the
entries below repeat it, so that a name whose dimension differs from ours is refused with
a clear message instead of failing later inside Immich's database.
"""

from inference_sidecar.errors import BadRequest

IMMICH_CLIP_DIMS: dict[str, int] = {
    **dict.fromkeys(
        [
            "RN101__openai",
            "RN101__yfcc15m",
            "ViT-B-16__laion400m_e31",
            "ViT-B-16__laion400m_e32",
            "ViT-B-16__openai",
            "ViT-B-32__laion2b-s34b-b79k",
            "ViT-B-32__laion2b_e16",
            "ViT-B-32__laion400m_e31",
            "ViT-B-32__laion400m_e32",
            "ViT-B-32__openai",
            "XLM-Roberta-Base-ViT-B-32__laion5b_s13b_b90k",
            "XLM-Roberta-Large-Vit-B-32",
        ],
        512,
    ),
    **dict.fromkeys(
        [
            "RN50x4__openai",
            "ViT-B-16-plus-240__laion400m_e31",
            "ViT-B-16-plus-240__laion400m_e32",
            "XLM-Roberta-Large-Vit-B-16Plus",
        ],
        640,
    ),
    **dict.fromkeys(
        [
            "LABSE-Vit-L-14",
            "RN50x16__openai",
            "ViT-B-16-SigLIP-256__webli",
            "ViT-B-16-SigLIP-384__webli",
            "ViT-B-16-SigLIP-512__webli",
            "ViT-B-16-SigLIP-i18n-256__webli",
            "ViT-B-16-SigLIP__webli",
            "ViT-L-14-336__openai",
            "ViT-L-14-quickgelu__dfn2b",
            "ViT-L-14__laion2b-s32b-b82k",
            "ViT-L-14__laion400m_e31",
            "ViT-L-14__laion400m_e32",
            "ViT-L-14__openai",
            "XLM-Roberta-Large-Vit-L-14",
            "nllb-clip-base-siglip__mrl",
            "nllb-clip-base-siglip__v1",
            "ViT-B-16-SigLIP2__webli",
            "ViT-B-32-SigLIP2-256__webli",
        ],
        768,
    ),
    **dict.fromkeys(
        [
            "RN50__cc12m",
            "RN50__openai",
            "RN50__yfcc15m",
            "RN50x64__openai",
            "ViT-H-14-378-quickgelu__dfn5b",
            "ViT-H-14-quickgelu__dfn5b",
            "ViT-H-14__laion2b-s32b-b79k",
            "ViT-L-16-SigLIP-256__webli",
            "ViT-L-16-SigLIP-384__webli",
            "ViT-g-14__laion2b-s12b-b42k",
            "XLM-Roberta-Large-ViT-H-14__frozen_laion5b_s13b_b90k",
            "ViT-L-16-SigLIP2-256__webli",
            "ViT-L-16-SigLIP2-384__webli",
            "ViT-L-16-SigLIP2-512__webli",
        ],
        1024,
    ),
    **dict.fromkeys(
        [
            "ViT-SO400M-14-SigLIP-384__webli",
            "nllb-clip-large-siglip__mrl",
            "nllb-clip-large-siglip__v1",
            "ViT-SO400M-14-SigLIP2__webli",
            "ViT-SO400M-14-SigLIP2-378__webli",
            "ViT-SO400M-16-SigLIP2-256__webli",
            "ViT-SO400M-16-SigLIP2-384__webli",
            "ViT-SO400M-16-SigLIP2-512__webli",
        ],
        1152,
    ),
    "ViT-gopt-16-SigLIP2-256__webli": 1536,
    "ViT-gopt-16-SigLIP2-384__webli": 1536,
}


def immich_clip_dim(name: str) -> int | None:
    """The dimension Immich gives its smart_search column for this model name, if known."""
    return IMMICH_CLIP_DIMS.get(name.removeprefix("immich-app/"))


def check_clip_dim(immich_name: str, our_name: str, our_dim: int) -> None:
    expected = immich_clip_dim(immich_name)
    if expected is not None and expected != our_dim:
        # OpenAI's names first: Immich's default (ViT-B-32__openai) is among them.
        names = (n for n, d in IMMICH_CLIP_DIMS.items() if d == our_dim)
        matching = sorted(names, key=lambda n: (not n.endswith("__openai"), n))[:3]
        raise BadRequest(
            f"Immich's CLIP model '{immich_name}' makes {expected}-dimensional vectors, but "
            f"this sidecar's CLIP model {our_name} makes {our_dim}: in Immich's settings "
            f"choose a {our_dim}-dimensional name, e.g. {', '.join(matching)}"
        )
