"""photo_ai's command line: the demo, importing a folder, running the worker, searching.

python -m photo_ai_cli demo [--photos DIR]
python -m photo_ai_cli import DIR
python -m photo_ai_cli work
python -m photo_ai_cli search "ocr:发票"
python -m photo_ai_cli sidecar start|stop|status
python -m photo_ai_cli samples [DIR]
"""
