"""How the model names Immich sends map onto the models this sidecar runs; a name it cannot
honour is refused (422, naming it), never answered by another model in silence.

- CLIP: this sidecar serves one CLIP model, Chinese CLIP. Immich's CLIP name is free text
  the admin types, and on Immich's side it only decides the dimension of the `smart_search`
  column, which must equal our model's. Immich's server fixes that dimension from its own
  table of names (CLIP_MODEL_INFO); the entries below repeat it, so that a name whose
  dimension differs from ours is refused with a clear message instead of failing later
  inside Immich's database. A name of the right dimension, or one Immich does not list, is
  answered by our Chinese CLIP: that is what pointing Immich at this sidecar is for.
- Faces: Immich's packs (antelopev2, buffalo_l/m/s) all share the SCRFD + ArcFace layout, so
  each is loaded by name from PHOTO_AI_MODEL_DIR/faces/<name>/ (503 naming the folder while
  it is absent). Another name is refused.
- OCR: the sidecar's PP-OCR model (from the rapidocr wheel) reads Chinese, Japanese and
  English: it answers Immich's models for those languages (PP-OCRv5_mobile/_server, CH__...)
  and refuses its language variants (EN__, LATIN__, ESLAV__, ...), which it cannot read as
  they would.
"""

import re

from inference_sidecar.errors import BadRequest

IMMICH_FACE_PACKS = ("antelopev2", "buffalo_l", "buffalo_m", "buffalo_s")
# Immich's OCR names whose recogniser reads Chinese, Japanese and English (no prefix or CH__).
_CHINESE_OCR = re.compile(r"(CH__)?PP-OCRv\d+_(mobile|server|tiny|small|medium)")
# What each of Immich's language prefixes reads (web: MachineLearningSettings, ocr model).
OCR_LANGUAGES = {
    "EN": "English only",
    "EL": "Greek and English",
    "KOREAN": "Korean and English",
    "LATIN": "Latin-script languages",
    "ESLAV": "Russian, Belarusian, Ukrainian and English",
    "TH": "Thai and English",
}


def immich_model_name(name: str) -> str:
    """The name as immich_ml files it (config.clean_name): the last path part, without the
    organisation (immich-app/), ':' and backslashes as '_', dots dropped."""
    return name.split("/")[-1].translate(str.maketrans(":\\", "__", "."))


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
    return IMMICH_CLIP_DIMS.get(immich_model_name(name))


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


def face_pack(detection: str, recognition: str | None, our_pack: str) -> str:
    """The InsightFace pack to answer Immich's face request with (its detection and
    recognition model names), or BadRequest naming what cannot be honoured."""
    pack = immich_model_name(detection)
    if recognition is not None and immich_model_name(recognition) != pack:
        raise BadRequest(
            f"Immich's face detection model '{detection}' and recognition model "
            f"'{recognition}' differ: this sidecar runs both from one InsightFace pack"
        )
    if pack not in IMMICH_FACE_PACKS and pack != our_pack:
        raise BadRequest(
            f"Immich's face model '{detection}' is not an InsightFace pack this sidecar loads "
            f"(it loads {', '.join(IMMICH_FACE_PACKS)} from PHOTO_AI_MODEL_DIR/faces/)"
        )
    return pack


def check_ocr_model(name: str) -> None:
    """Refuse an OCR model name whose language our PP-OCR model does not read as it would."""
    cleaned = immich_model_name(name)
    if _CHINESE_OCR.fullmatch(cleaned):
        return
    language = OCR_LANGUAGES.get(cleaned.split("__")[0]) if "__" in cleaned else None
    what = f"reads {language}" if language else "is not one of Immich's OCR models"
    raise BadRequest(
        f"Immich's OCR model '{name}' {what}; this sidecar's PP-OCR model reads Chinese, "
        "Japanese and English only: in Immich's settings choose PP-OCRv5_mobile or "
        "PP-OCRv5_server"
    )
