insert into photo_ai.setting_default (name, value, description) values
  ('tasks', '["ocr", "clip", "faces"]', 'tasks queued for every new or changed image')
, ('max_attempts', '5', 'tries before a job is marked failed')
, ('retry_base_seconds', '10', 'first retry delay; doubles with every attempt')
, ('retry_max_seconds', '3600', 'longest retry delay')
, ('lease_seconds', '300', 'how long a claimed job stays with its worker before others may take it')
, ('request_timeout_seconds', '120', 'how long the worker waits for one sidecar answer')
, ('send_image_bytes', 'false', 'send image bytes to the sidecar instead of a path under its roots')
, ('face_min_score', '0.7', 'faces detected with a lower score are dropped');
