-------------------------------------------------------------------------------
-- The task registry, photo_ai.task, as the rest of photo_ai uses it. An image task is
-- computed by the sidecar from the photo; a derived task is computed in the database from
-- the results of the tasks it reads, and is queued when one of them is stored. Every
-- call of a task's own functions goes through the four functions here.

-------------------------------------------------------------------------------
-- function_name: a registered function as a call names it, schema-qualified and quoted
create or replace function photo_ai.function_name(_function regprocedure)
returns text
language sql stable strict
set search_path to pg_catalog, pg_temp
as $func$
    select pg_catalog.format('%I.%I', n.nspname, p.proname)
    from pg_catalog.pg_proc p
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
    where p.oid = _function
$func$;
comment on function photo_ai.function_name(regprocedure) is
    'The schema-qualified, quoted name of a function, for the dynamic calls of task functions.';

-------------------------------------------------------------------------------
-- check_task_function: a task function must take what the pipeline passes it
create or replace function photo_ai.check_task_function
( _task text
, _role text
, _function regprocedure
, _arguments regtype[]
, _returns regtype default null
)
returns void
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _found record;
begin
    if _function is null then
        return;
    end if;
    -- proargtypes counts from 0: its elements, not the array, are compared
    select array(select pg_catalog.unnest(p.proargtypes::oid[])) as arguments
         , p.prorettype as returns into _found
    from pg_catalog.pg_proc p where p.oid = _function;
    if _found.arguments is distinct from _arguments::oid[]
       or (_returns is not null and _found.returns <> _returns) then
        raise exception 'photo_ai: the % function of task % must be (%) returns %, not %',
            _role, _task, pg_catalog.array_to_string(_arguments, ', '),
            coalesce(_returns::text, 'anything'), _function;
    end if;
end
$func$;
comment on function photo_ai.check_task_function(text, text, regprocedure, regtype[], regtype) is
    'Raises a readable error when a registered task function has the wrong arguments or result.';

-------------------------------------------------------------------------------
-- check_task: the trigger that keeps registry rows callable
create or replace function photo_ai.check_task()
returns trigger
language plpgsql
set search_path to pg_catalog, pg_temp
as $func$
declare
    _unknown text[];
begin
    if tg_op = 'UPDATE' and new.name <> old.name then
        raise exception 'photo_ai: a task keeps its name (% is %); register a new one instead',
            old.name, new.name;
    end if;
    perform photo_ai.check_task_function(new.name, 'store', new.store, '{uuid,jsonb}');
    perform photo_ai.check_task_function(new.name, 'compute', new.compute, '{uuid}', 'jsonb');
    perform photo_ai.check_task_function(new.name, 'describe', new.describe, '{uuid}', 'jsonb');
    perform photo_ai.check_task_function(new.name, 'prepare', new.prepare, '{}', 'jsonb');
    if exists (select 1 from pg_catalog.unnest(new.result_tables) r(result_table)
               where not exists (select 1 from pg_catalog.pg_attribute a
                                 where a.attrelid = r.result_table and a.attname = 'asset_id'
                                   and a.atttypid = 'uuid'::regtype and not a.attisdropped)) then
        raise exception 'photo_ai: the result tables of task % need an asset_id uuid column: %',
            new.name, new.result_tables;
    end if;
    _unknown := array(select r from pg_catalog.unnest(new.reads) r
                      where r = new.name or not exists (select 1 from photo_ai.task t where t.name = r));
    if pg_catalog.cardinality(_unknown) > 0 then
        raise exception 'photo_ai: task % reads tasks that are not registered before it: %',
            new.name, pg_catalog.array_to_string(_unknown, ', ');
    end if;
    return new;
end
$func$;
comment on function photo_ai.check_task() is
    'Trigger on photo_ai.task: a task keeps its name, its functions take (and return) what '
    'the pipeline passes them, its result tables are keyed by asset_id, and a derived task '
    'reads only tasks registered before it.';

-------------------------------------------------------------------------------
-- forget_tasks: the trigger that deletes the jobs of tasks no longer registered
create or replace function photo_ai.forget_tasks()
returns trigger
language plpgsql
set search_path to pg_catalog, pg_temp
as $func$
begin
    delete from photo_ai.job j where j.task in (select o.name from old_rows o);
    return null;
end
$func$;
comment on function photo_ai.forget_tasks() is
    'Trigger on photo_ai.task: a task that is unregistered takes its jobs along.';

-------------------------------------------------------------------------------
-- enabled_tasks: the tasks that run. Image tasks: those the setting tasks names, or those
-- on by default. Derived tasks: on by default (or named), and everything they read runs.
-- A task bound to a mode runs only in that mode.
create or replace function photo_ai.enabled_tasks()
returns text[]
language plpgsql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _named jsonb := photo_ai.setting('tasks');
    _source text := photo_ai.asset_source();
    _enabled text[];
    _grown text[];
begin
    _enabled := array(
        select t.name from photo_ai.task t
        where t.reads = '{}' and (t.mode is null or t.mode = _source)
          and case when pg_catalog.jsonb_typeof(_named) = 'array' then _named ? t.name
                   else t.on_by_default end
        order by t.name);
    loop
        _grown := _enabled || array(
            select t.name from photo_ai.task t
            where t.reads <> '{}' and not t.name = any(_enabled)
              and (t.mode is null or t.mode = _source)
              and (t.on_by_default or coalesce(_named ? t.name, false))
              and t.reads <@ _enabled
            order by t.name);
        exit when pg_catalog.cardinality(_grown) = pg_catalog.cardinality(_enabled);
        _enabled := _grown;
    end loop;
    return _enabled;
end
$func$;
comment on function photo_ai.enabled_tasks() is
    'The tasks that run: image tasks named by the setting tasks (else those on by default), '
    'derived tasks that are on and whose inputs all run, each only in its mode.';

-------------------------------------------------------------------------------
-- image_tasks / derived_tasks_reading: the two ways a job comes to exist
create or replace function photo_ai.image_tasks()
returns text[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    -- In Immich mode Immich's own jobs compute them (their triggers record the results,
    -- sql/functions/052): photo_ai queues none, and analyses a photo only when asked
    -- (ai_reprocess).
    select array(select t.name from photo_ai.task t
                 where t.reads = '{}' and t.name = any(photo_ai.enabled_tasks())
                   and photo_ai.asset_source() = 'standalone'
                 order by t.name)
$func$;
comment on function photo_ai.image_tasks() is
    'The enabled image tasks photo_ai queues: what every new or changed photo is queued for '
    '(none in Immich mode, where Immich''s jobs compute them).';

create or replace function photo_ai.derived_tasks_reading(_task text)
returns text[]
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    -- enabled_tasks() only when some task reads this one (a look at the registry is cheap)
    select array(select t.name from photo_ai.task t
                 where _task = any(t.reads) and t.name = any(photo_ai.enabled_tasks())
                 order by t.name)
    where exists (select 1 from photo_ai.task r where _task = any(r.reads))
$func$;
comment on function photo_ai.derived_tasks_reading(text) is
    'The enabled derived tasks computed from a task''s result: queued when it is stored.';

create or replace function photo_ai.is_image_task(_task text)
returns boolean
language sql stable
set search_path to pg_catalog, pg_temp
as $func$
    select exists (select 1 from photo_ai.task t where t.name = _task and t.reads = '{}')
$func$;
comment on function photo_ai.is_image_task(text) is
    'True for a task the sidecar computes from the image, false for a derived task.';

-------------------------------------------------------------------------------
-- prepare_tasks: before a worker claims, each enabled task that needs preparing is
-- prepared (its prepare function does a step of what it needs). Until one says it is
-- ready, a problem row says why and holds the task's jobs (photo_ai.held_tasks); a failure
-- is tried again as the problem's wait says, progress at once.
create or replace function photo_ai.prepare_tasks()
returns void
language plpgsql volatile security definer
set search_path to pg_catalog, pg_temp
as $func$
declare
    _task record;
    _said jsonb;
begin
    for _task in
        select t.name, t.prepare from photo_ai.task t
        where t.prepare is not null and t.name = any(photo_ai.enabled_tasks())
          and not exists (select 1 from photo_ai.problem p
                          where p.scope = t.name and p.retry_at > pg_catalog.now())
        order by t.name
    loop
        execute pg_catalog.format('select %s()', photo_ai.function_name(_task.prepare)) into _said;
        if _said is null then
            perform photo_ai.clear_problems(_task.name);
        elsif _said->>'kind' = 'preparing' then
            insert into photo_ai.problem as p (scope, kind, detail, retry_at)
            values (_task.name, 'preparing', _said->>'detail', pg_catalog.now())
            on conflict (scope) do update
            set kind = excluded.kind, detail = excluded.detail, retry_at = excluded.retry_at;
        else
            perform photo_ai.hold_work(_task.name, _said->>'kind', _said->>'detail');
        end if;
    end loop;
end
$func$;
comment on function photo_ai.prepare_tasks() is
    'Runs the prepare function of each enabled task that has one (and no problem waiting to '
    'be tried again); records why a task is not ready, or clears its problem when it is.';

create or replace function photo_ai.tasks_preparing()
returns boolean
language sql stable security definer
set search_path to pg_catalog, pg_temp
as $func$
    select exists (select 1 from photo_ai.problem p where p.kind = 'preparing')
$func$;
comment on function photo_ai.tasks_preparing() is
    'True while a task''s preparation is under way (and its jobs wait for it).';

-------------------------------------------------------------------------------
-- store_result / compute_result / forget_results / describe_results: what the registry
-- names, called
create or replace function photo_ai.store_result(_task text, _asset_id uuid, _result jsonb)
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
begin
    execute pg_catalog.format('select %s($1, $2)',
        (select photo_ai.function_name(t.store) from photo_ai.task t where t.name = _task))
    using _asset_id, _result;
end
$func$;
comment on function photo_ai.store_result(text, uuid, jsonb) is
    'Stores one task''s result for an asset with the task''s store function.';

create or replace function photo_ai.compute_result(_task text, _asset_id uuid)
returns jsonb
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _result jsonb;
begin
    execute pg_catalog.format('select %s($1)',
        (select photo_ai.function_name(t.compute) from photo_ai.task t where t.name = _task))
    into _result using _asset_id;
    return _result;
end
$func$;
comment on function photo_ai.compute_result(text, uuid) is
    'Computes a derived task''s result for an asset from the results it reads.';

create or replace function photo_ai.forget_results(_asset_ids uuid[])
returns void
language plpgsql volatile
set search_path to pg_catalog, pg_temp
as $func$
declare
    _table record;
begin
    for _table in
        select distinct n.nspname as schema, c.relname as name
        from photo_ai.task t
        cross join pg_catalog.unnest(t.result_tables) r(result_table)
        join pg_catalog.pg_class c on c.oid = r.result_table
        join pg_catalog.pg_namespace n on n.oid = c.relnamespace
        order by 1, 2
    loop
        execute pg_catalog.format('delete from %I.%I where asset_id = any($1)', _table.schema, _table.name)
        using _asset_ids;
    end loop;
end
$func$;
comment on function photo_ai.forget_results(uuid[]) is
    'Deletes the given assets'' rows from every task''s result tables.';

create or replace function photo_ai.describe_results(_asset_id uuid)
returns jsonb
language plpgsql stable
set search_path to pg_catalog, pg_temp
as $func$
declare
    _describe text;
    _described jsonb := '{}';
    _part jsonb;
begin
    -- one function may describe several tasks: each is called once, its objects merged
    for _describe in
        select distinct photo_ai.function_name(t.describe) from photo_ai.task t
        where t.describe is not null order by 1
    loop
        execute pg_catalog.format('select %s($1)', _describe) into _part using _asset_id;
        _described := _described || coalesce(_part, '{}');
    end loop;
    return _described;
end
$func$;
comment on function photo_ai.describe_results(uuid) is
    'What the tasks stored for an asset, {task: description}, as ai_reprocess shows it: the '
    'objects the tasks'' describe functions return, merged.';
