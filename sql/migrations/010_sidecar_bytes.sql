-- sidecar_request() gained _bytes (search by an uploaded photo) and _timeout_seconds
-- (searches wait less than the worker); the old signature would linger as an overload.
drop function if exists photo_ai.sidecar_request(text, text, jsonb, text, jsonb);
