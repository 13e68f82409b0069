"""A text listing of everything the photo_ai extension owns, to compare two installs."""

from __future__ import annotations

import psycopg

# One row per object the extension owns, with the definition that matters to a user.
EXTENSION_OBJECTS = """
with members as (
    select d.classid, d.objid
    from pg_depend d
    join pg_extension e on e.oid = d.refobjid and d.refclassid = 'pg_extension'::regclass
    where e.extname = 'photo_ai' and d.deptype = 'e'
)
select 'function ' || p.oid::regprocedure::text || ' ' || pg_get_functiondef(p.oid)
       || ' acl=' || coalesce(p.proacl::text, '')
       || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
from members m join pg_proc p on m.classid = 'pg_proc'::regclass and p.oid = m.objid
union all
select 'relation ' || c.oid::regclass::text || ' kind=' || c.relkind::text
       || ' acl=' || coalesce(c.relacl::text, '')
       || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
       || ' view=' || coalesce(pg_get_viewdef(c.oid), '')
from members m join pg_class c on m.classid = 'pg_class'::regclass and c.oid = m.objid
union all
select 'column ' || a.attrelid::regclass::text || '.' || a.attname || ' '
       || format_type(a.atttypid, a.atttypmod) || ' notnull=' || a.attnotnull
       || ' default=' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
from members m
join pg_attribute a on m.classid = 'pg_class'::regclass and a.attrelid = m.objid
left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
where a.attnum > 0 and not a.attisdropped
union all
select 'constraint ' || conrelid::regclass::text || ' ' || pg_get_constraintdef(co.oid)
from pg_constraint co
where co.conrelid in (select objid from members where classid = 'pg_class'::regclass)
union all
select 'index ' || pg_get_indexdef(i.indexrelid)
from pg_index i
where i.indrelid in (select objid from members where classid = 'pg_class'::regclass)
union all
select 'trigger ' || pg_get_triggerdef(t.oid)
from pg_trigger t
where not t.tgisinternal
  and (t.oid in (select objid from members where classid = 'pg_trigger'::regclass)
       or t.tgfoid in (select objid from members where classid = 'pg_proc'::regclass))
union all
select 'type ' || t.oid::regtype::text || ' '
       || coalesce((select string_agg(enumlabel, ',' order by enumsortorder)
                    from pg_enum where enumtypid = t.oid), '')
from members m join pg_type t on m.classid = 'pg_type'::regclass and t.oid = m.objid
union all
select 'schema ' || n.nspname || ' acl=' || coalesce(n.nspacl::text, '')
from members m join pg_namespace n on m.classid = 'pg_namespace'::regclass and n.oid = m.objid
union all
select 'ledger ' || name || ' ' || sha256 from photo_ai.migration
order by 1
"""


def extension_catalog(conn: psycopg.Connection) -> list[str]:
    return [row[0] for row in conn.execute(EXTENSION_OBJECTS)]
