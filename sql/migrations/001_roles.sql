-- Roles are cluster-wide, so they may exist already (another database, an earlier install).
do $roles$
begin
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'photo_ai_reader') then
        create role photo_ai_reader nologin;
    end if;
    if not exists (select 1 from pg_catalog.pg_roles where rolname = 'photo_ai_admin') then
        create role photo_ai_admin nologin;
    end if;
end
$roles$;
grant photo_ai_reader to photo_ai_admin;
grant usage on schema photo_ai to photo_ai_reader;
