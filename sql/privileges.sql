-------------------------------------------------------------------------------
-- Privileges, in one place. Readers search and watch the queue; admins also configure,
-- reprocess, schedule and run workers. Functions not named here are internal: they run
-- only inside the SECURITY DEFINER functions granted below.
revoke all on all routines in schema photo_ai from public;
revoke all on function public.ai_reprocess(uuid, text[], boolean) from public;
revoke all on function public.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8)
    from public;
revoke all on function public.similar_assets(uuid, int) from public;
revoke all on function public.search_by_image(bytea, int) from public;

grant execute on function photo_ai.version() to photo_ai_reader;
grant execute on function photo_ai.zh_tokens(text) to photo_ai_reader;
grant execute on function photo_ai.zh_tsvector(text) to photo_ai_reader;
grant execute on function photo_ai.zh_tsquery(text) to photo_ai_reader;
grant execute on function photo_ai.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8)
    to photo_ai_reader;
grant execute on function public.hybrid_search(text, int, uuid, timestamptz, timestamptz, float8, float8, int, float8)
    to photo_ai_reader;
grant execute on function photo_ai.similar_assets(uuid, int) to photo_ai_reader;
grant execute on function public.similar_assets(uuid, int) to photo_ai_reader;
grant execute on function photo_ai.search_by_image(bytea, int) to photo_ai_reader;
grant execute on function public.search_by_image(bytea, int) to photo_ai_reader;
grant usage on type photo_ai.search_hit, photo_ai.similar_asset to photo_ai_reader;
grant select on photo_ai.status, photo_ai.failed_jobs, photo_ai.task to photo_ai_reader;
-- failed_jobs calls it
grant execute on function photo_ai.asset_path(uuid) to photo_ai_reader;

grant execute on function photo_ai.configure
    (text, text, text[], int, int, int, boolean, real, int, int, int)
    to photo_ai_admin;
grant select on photo_ai.settings to photo_ai_admin;
grant execute on function photo_ai.ai_reprocess(uuid, text[], boolean) to photo_ai_admin;
grant execute on function public.ai_reprocess(uuid, text[], boolean) to photo_ai_admin;
grant execute on function photo_ai.retry_failed(text) to photo_ai_admin;
grant execute on function photo_ai.backfill() to photo_ai_admin;
grant execute on function photo_ai.schedule_worker(int, int) to photo_ai_admin;
grant execute on function photo_ai.unschedule_worker() to photo_ai_admin;
grant execute on function photo_ai.rebuild_text_index(text) to photo_ai_admin;
-- people
grant execute on function photo_ai.persons(uuid, boolean, uuid) to photo_ai_reader;
grant execute on function photo_ai.person_photos(uuid, int, int) to photo_ai_reader;
grant execute on function photo_ai.who_is_this(bigint, int) to photo_ai_reader;
grant execute on function photo_ai.recognize_faces(uuid[], timestamptz) to photo_ai_admin;
grant execute on function photo_ai.name_person(uuid, text) to photo_ai_admin;
grant execute on function photo_ai.hide_person(uuid, boolean) to photo_ai_admin;
grant execute on function photo_ai.set_birth_date(uuid, date) to photo_ai_admin;
grant execute on function photo_ai.merge_persons(uuid, uuid) to photo_ai_admin;
grant execute on function photo_ai.move_face(bigint, uuid) to photo_ai_admin;
grant execute on function photo_ai.new_person(bigint, text) to photo_ai_admin;
-- tags and descriptions
grant select on photo_ai.vocabulary, photo_ai.label to photo_ai_reader;
grant execute on function photo_ai.description(uuid, text) to photo_ai_reader;
grant execute on function photo_ai.popular_tags(uuid, int) to photo_ai_reader;
grant execute on function photo_ai.add_label(text, text, text[]) to photo_ai_admin;
grant execute on function photo_ai.remove_label(text) to photo_ai_admin;
-- run_worker commits between photos, so it cannot be SECURITY DEFINER; what it calls is.
grant execute on procedure photo_ai.run_worker(int, int, boolean, jsonb) to photo_ai_admin;
grant execute on function photo_ai.claim_batch(text, int) to photo_ai_admin;
grant execute on function photo_ai.batch_photos(photo_ai.job[]) to photo_ai_admin;
grant execute on function photo_ai.process_photo(photo_ai.job[], uuid) to photo_ai_admin;
grant execute on function photo_ai.release_jobs(photo_ai.job[]) to photo_ai_admin;
grant execute on function photo_ai.renew_leases(photo_ai.job[]) to photo_ai_admin;
grant execute on function photo_ai.release_held_jobs() to photo_ai_admin;
grant execute on function photo_ai.worker_pause(timestamptz, boolean) to photo_ai_admin;
grant execute on function photo_ai.tasks_preparing() to photo_ai_admin;
grant execute on function photo_ai.add_counts(jsonb, jsonb) to photo_ai_admin;
grant execute on function photo_ai.seconds_from_now(int) to photo_ai_admin;
grant execute on function photo_ai.worker_id() to photo_ai_admin;
grant usage on type photo_ai.job to photo_ai_admin;
-- the search page (060_search_page.sql)
grant execute on function photo_ai.asset_cards(uuid[]) to photo_ai_reader;
grant execute on function photo_ai.recent_assets(int, int, uuid, timestamptz, timestamptz) to photo_ai_reader;
grant execute on function photo_ai.asset_detail(uuid) to photo_ai_reader;
grant execute on function photo_ai.asset_owners() to photo_ai_reader;
grant execute on function photo_ai.sidecar_health() to photo_ai_reader;
-- photo_ai.status calls enabled_tasks() (SECURITY DEFINER: it reads the settings); a view
-- checks EXECUTE as the role that reads it
grant execute on function photo_ai.enabled_tasks() to photo_ai_reader;
