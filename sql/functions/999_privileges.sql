-------------------------------------------------------------------------------
-- Privileges, in one place. Readers search; admins also configure and reprocess.
-- Functions not named here are internal: only the owner (a superuser) runs them.
revoke all on all functions in schema photo_ai from public;

grant execute on function photo_ai.version() to photo_ai_reader;
grant execute on function photo_ai.zh_tokens(text) to photo_ai_reader;

grant execute on function photo_ai.configure(text, text) to photo_ai_admin;
grant select on photo_ai.settings to photo_ai_admin;
