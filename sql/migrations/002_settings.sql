-- Defaults belong to the extension and are rewritten by upgrades; what an admin sets
-- lives apart in setting_override, which pg_dump keeps.
create table photo_ai.setting_default
( name text not null primary key
, value jsonb not null
, description text not null
);

create table photo_ai.setting_override
( name text not null primary key references photo_ai.setting_default (name) on delete cascade
, value jsonb not null
, updated_at timestamptz not null default pg_catalog.now()
);
select pg_catalog.pg_extension_config_dump('photo_ai.setting_override', '');

insert into photo_ai.setting_default (name, value, description) values
  ('sidecar_urls', '["http://127.0.0.1:3003"]', 'inference sidecar base URLs, used in rotation')
, ('api_key', 'null', 'sent to the sidecar as the x-api-key header');
