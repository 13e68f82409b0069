"""Errors the sidecar turns into HTTP answers: each carries its status and a readable kind."""


class SidecarError(Exception):
    status = 500
    kind = "internal"

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


class Unauthorized(SidecarError):
    status, kind = 401, "unauthorized"


class MissingKey(Unauthorized):
    """No key in any header: the message names the header the client's API sends it in."""

    def __init__(self, header: str = "x-api-key"):
        super().__init__(f"missing API key: send it in the {header} header")


class ForbiddenPath(SidecarError):
    status, kind = 403, "forbidden_path"


class ImageNotFound(SidecarError):
    status, kind = 404, "not_found"


class TooManyPixels(SidecarError):
    status, kind = 413, "too_many_pixels"


class FileTooLarge(SidecarError):
    status, kind = 413, "file_too_large"


class BadImage(SidecarError):
    status, kind = 422, "bad_image"


class BadRequest(SidecarError):
    """The request itself is malformed: unknown task, unreadable options, missing field."""

    status, kind = 422, "bad_request"


class ModelMissing(SidecarError):
    """A model's files are absent: a state of the installation, not an error of the asset."""

    status, kind = 503, "model_missing"

    def __init__(self, task: str, path: str, setting: str):
        super().__init__(f"{task} model not found: {path} (set {setting})")
        self.task, self.path, self.setting = task, path, setting


class ModelUnavailable(SidecarError):
    """A model's files are there but it cannot run here (runtime not installed, load failed)."""

    status, kind = 503, "model_unavailable"
