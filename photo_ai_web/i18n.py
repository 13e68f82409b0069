"""English and Chinese: every message of the page in both languages, side by side, so that
neither can miss one. The language comes from the `lang` cookie (the switch in the page's
header sets it), else the browser's Accept-Language, else English.

Messages are plain text: what they are given (a query, a file name) is escaped by the
templates like anything else, so a message can never carry markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import NamedTuple

from starlette.requests import Request


class Message(NamedTuple):
    """One message of the page in each of its languages; {name} fields are filled by
    str.format."""

    en: str
    zh: str


LANGUAGES: tuple[str, ...] = Message._fields
DEFAULT = "en"
COOKIE = "lang"
HTML_LANG = {"en": "en", "zh": "zh-CN"}

MESSAGES: dict[str, Message] = {
    "app.title": Message("Photo search", "照片搜索"),
    "nav.photos": Message("Photos", "照片"),
    "nav.status": Message("Status", "状态"),
    "nav.people": Message("People", "人物"),
    "people.title": Message("People", "人物"),
    "people.count": Message("{count}", "{count} 位"),
    "people.faces": Message("{count} faces", "{count} 张脸"),
    "people.unnamed": Message("Unnamed", "未命名"),
    "people.name": Message("Name", "名字"),
    "people.add_name": Message("Add a name", "添加名字"),
    "people.save_name": Message("Save name", "保存名字"),
    "people.search": Message("Search their photos", "搜索此人的照片"),
    "people.merge_into": Message("Same person as", "与此人为同一人"),
    "people.merge": Message("Merge", "合并"),
    "people.none": Message("No people yet", "还没有人物"),
    "people.none_why": Message(
        "Faces are grouped into people once photos with faces are analysed "
        "(the faces model in the sidecar, and photo-ai work).",
        "分析含人脸的照片后，人脸会被归为人物（需要 sidecar 的人脸模型，以及 photo-ai work）。",
    ),
    "nav.logout": Message("Sign out", "退出"),
    "nav.language": Message("中文", "English"),
    "search.placeholder": Message(
        "Search your photos: words printed in them, or what they show",
        "搜索照片：照片里的文字，或照片的内容",
    ),
    "search.button": Message("Search", "搜索"),
    "search.by_image": Message("Search by image", "以图搜图"),
    "search.by_image_hint": Message(
        "Drop a photo here, paste one, or pick a file: photos like it are shown",
        "拖入、粘贴或选择一张照片，显示与它相似的照片",
    ),
    "search.drop_here": Message("Drop the photo to find similar ones", "松开即可查找相似照片"),
    "filter.from": Message("From", "从"),
    "filter.to": Message("To", "到"),
    "filter.owner": Message("Owner", "所有者"),
    "filter.everyone": Message("Everyone", "所有人"),
    "filter.no_owner": Message("No owner", "无所有者"),
    "filter.apply": Message("Apply", "筛选"),
    "filter.clear": Message("Clear filters", "清除筛选"),
    "results.for": Message("Results for", "搜索结果："),
    "results.count": Message("{count} photos", "{count} 张照片"),
    "results.more": Message("{count}+ photos", "{count} 张以上"),
    "results.recent": Message("Your photos, newest first", "全部照片（最新在前）"),
    "results.like_image": Message("Photos like your image", "与这张图片相似的照片"),
    "results.loading": Message("Loading more…", "正在加载…"),
    "results.end": Message("That is all.", "没有更多了。"),
    "arm.text": Message("text #{rank}", "文字 #{rank}"),
    "arm.text_title": Message("Found by the text in the photo (OCR)", "由照片中的文字（OCR）找到"),
    "arm.meaning": Message("meaning #{rank}", "内容 #{rank}"),
    "arm.meaning_title": Message(
        "Found by what the photo shows (CLIP)", "由照片的内容（CLIP）找到"
    ),
    "arm.similar": Message("{percent}% alike", "相似度 {percent}%"),
    "immich.open": Message("Open in Immich", "在 Immich 中打开"),
    "empty.library": Message("No photos yet", "还没有照片"),
    "empty.library_help": Message(
        "Import a folder, and its photos are read and analysed in the background:",
        "导入一个文件夹，照片会在后台被读取和分析：",
    ),
    "empty.tips": Message("What you can search for", "可以这样搜索"),
    "empty.tip_ocr": Message("words printed in a photo, and nothing else", "只搜照片里印着的文字"),
    "empty.tip_phrase": Message("these words, exactly as written", "完全按此书写的词语"),
    "empty.tip_exclude": Message("parking, but not exits", "停车场，但不含“出口”"),
    "empty.tip_clip": Message(
        "what a photo shows (needs the CLIP model)", "照片的内容（需要 CLIP 模型）"
    ),
    "empty.tip_both": Message("both at once: the text and the meaning", "同时按文字和内容搜索"),
    "none.title": Message("No photos match", "没有匹配的照片："),
    "none.try": Message("Try:", "可以试试："),
    "none.fewer_words": Message(
        "fewer words: every word must be in the photo",
        "减少词语：照片必须包含每一个词",
    ),
    "none.ocr": Message(
        "ocr: searches only the printed text, clip: only what the photos show",
        "ocr: 只搜印着的文字，clip: 只搜照片内容",
    ),
    "none.clear_filters": Message("without the date or owner filters", "去掉日期或所有者筛选"),
    "none.not_analysed": Message(
        "photos still being analysed appear once they are done (see Status)",
        "还在分析中的照片完成后才能搜到（见“状态”）",
    ),
    "semantic.off": Message("Search by meaning is off", "按内容搜索未开启"),
    "semantic.off_help": Message(
        "These results come from the text in the photos only. To search by what photos show, "
        "put Chinese-CLIP's {model} checkpoint ({file}) in the sidecar's model folder, under "
        "clip/; the Status page says where it looks. The photos' waiting CLIP jobs then run.",
        "以下结果只来自照片中的文字。要按照片内容搜索，请把 Chinese-CLIP 的 {model} 模型文件"
        "（{file}）放到推理服务模型目录的 clip/ 下；“状态”页面显示它查找的位置。"
        "照片等待中的 CLIP 任务随后就会运行。",
    ),
    "semantic.download": Message("Download the checkpoint", "下载模型文件"),
    "error.search": Message("The search failed", "搜索失败"),
    "error.image_search": Message("Search by image failed", "以图搜图失败"),
    "error.upload_empty": Message("No image was given.", "没有收到图片。"),
    "error.upload_too_large": Message(
        "The image is larger than {limit} MB.",
        "图片超过 {limit} MB。",
    ),
    "error.not_found": Message("No photo with this id", "没有这个编号的照片"),
    "error.bad_id": Message("This is not a photo id", "这不是照片编号"),
    "error.not_allowed": Message(
        "Only an admin may do this: the page's database login is not a member of photo_ai_admin.",
        "只有管理员可以这样做：页面使用的数据库账号不是 photo_ai_admin 的成员。",
    ),
    "error.csrf": Message(
        "This form has expired or came from another site. Reload the page and try again.",
        "表单已过期或来自其他网站。请刷新页面后重试。",
    ),
    "error.page": Message("Something went wrong", "出错了"),
    "error.back": Message("Back to the photos", "返回照片"),
    "photo.text": Message("Text in this photo", "照片中的文字"),
    "photo.copy": Message("Copy all", "全部复制"),
    "photo.copied": Message("Copied", "已复制"),
    "photo.no_text": Message("No text was found in this photo.", "这张照片中没有找到文字。"),
    "photo.text_pending": Message(
        "The text has not been read yet: its OCR job is {state}.",
        "文字还没有识别：OCR 任务{state}。",
    ),
    "photo.show_boxes": Message("Show text boxes", "显示文字框"),
    "photo.show_faces": Message("Show faces", "显示人脸"),
    "photo.faces": Message("Faces", "人脸"),
    "photo.face_count": Message("{count} faces found", "找到 {count} 张人脸"),
    "photo.no_faces": Message("No faces were found.", "没有找到人脸。"),
    "photo.faces_pending": Message("Faces have not been looked for yet.", "还没有检测人脸。"),
    "photo.face": Message("Face {number}", "人脸 {number}"),
    "photo.similar": Message("Similar photos", "相似照片"),
    "photo.no_similar": Message("No similar photos to show", "没有可显示的相似照片"),
    "photo.analysis": Message("Analysis", "分析"),
    "photo.taken": Message("Taken", "拍摄时间"),
    "photo.file": Message("File", "文件"),
    "photo.in_trash": Message("This photo is in the trash.", "这张照片在回收站中。"),
    "photo.unavailable": Message("The photo cannot be shown: {reason}", "无法显示照片：{reason}"),
    "photo.analyse_again": Message("Analyse again", "重新分析"),
    "photo.analyse_again_help": Message(
        "Reads the text, embeds and looks for faces again now, ahead of the queue.",
        "立即重新识别文字、计算向量和检测人脸，优先于队列。",
    ),
    "photo.analysed": Message("Analysed again just now.", "刚刚重新分析完成。"),
    "task.ocr": Message("Text (OCR)", "文字（OCR）"),
    "task.clip": Message("Meaning (CLIP)", "内容（CLIP）"),
    "task.faces": Message("Faces", "人脸"),
    "task.tags": Message("Tags", "标签"),
    "task.people": Message("People", "人物"),
    "photo.tags": Message("Tags", "标签"),
    "photo.no_tags": Message("No tag yet.", "还没有标签。"),
    "photo.description": Message("Description", "描述"),
    "filter.tags": Message("Tags", "标签"),
    "state.done": Message("done", "已完成"),
    "state.queued": Message("queued", "排队中"),
    "state.running": Message("running", "进行中"),
    "state.failed": Message("failed", "失败"),
    "state.none": Message("not queued", "未排队"),
    "status.title": Message("Status", "状态"),
    "status.progress": Message("Progress", "进度"),
    "status.updating": Message(
        "Updates by itself while photos are analysed.", "分析照片时会自动更新。"
    ),
    "status.model_missing": Message("Model missing", "缺少模型"),
    "status.model_missing_help": Message(
        "Its jobs wait (they do not fail) until the file is there.",
        "在模型文件就位之前，它的任务会等待（不会失败）。",
    ),
    "status.waiting": Message("Waiting", "等待原因"),
    "status.sidecar": Message("Inference sidecar", "推理服务"),
    "status.sidecar_up": Message(
        "Running at {url}, version {version}", "运行中：{url}，版本 {version}"
    ),
    "status.sidecar_down": Message("Not reachable", "无法连接"),
    "status.sidecar_outage": Message("What holds the work", "工作暂停的原因"),
    "status.model_ready": Message("ready", "就绪"),
    "status.model_absent": Message("missing", "缺失"),
    "status.looked_for": Message("looked for at", "查找位置"),
    "status.failed": Message("Failed photos", "失败的照片"),
    "status.no_failures": Message("No photo has failed.", "没有失败的照片。"),
    "status.photo": Message("Photo", "照片"),
    "status.task": Message("Task", "任务"),
    "status.attempts": Message("Tries", "尝试次数"),
    "status.reason": Message("Why", "原因"),
    "status.when": Message("When", "时间"),
    "status.retry": Message("Retry", "重试"),
    "status.retry_all": Message("Retry all failed", "全部重试"),
    "status.retried": Message("Tried again:", "已重试："),
    "status.retried_all": Message(
        "{count} jobs queued again; a worker runs them (photo-ai work, or pg_cron).",
        "已重新排队 {count} 个任务；由工作进程运行（photo-ai work 或 pg_cron）。",
    ),
    "status.new_failures": Message(
        "New failures: reload to see them.", "有新的失败：刷新页面查看。"
    ),
    "login.title": Message("Sign in", "登录"),
    "login.password": Message("Password", "密码"),
    "login.button": Message("Sign in", "登录"),
    "login.wrong": Message("Wrong password.", "密码错误。"),
}


def negotiate(request: Request) -> str:
    """The page's language: the cookie, else the best of Accept-Language, else English."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    best, best_q = DEFAULT, 0.0
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = tag.strip().lower().split("-")[0]
        if language in LANGUAGES and quality > best_q:
            best, best_q = language, quality
    return best


def translator(lang: str) -> Callable[..., str]:
    language = lang if lang in LANGUAGES else DEFAULT

    def t(key: str, **fields) -> str:
        text = getattr(MESSAGES[key], language)
        return text.format(**fields) if fields else text

    return t


def format_date(value: datetime | None, lang: str) -> str:
    if value is None:
        return ""
    if lang == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"


def format_time(value: datetime | None, lang: str) -> str:
    if value is None:
        return ""
    return f"{format_date(value, lang)} {value:%H:%M}"
