-------------------------------------------------------------------------------
-- A registry row's functions are checked as it is written (photo_ai.check_task).
drop trigger if exists check_task on photo_ai.task;
create trigger check_task before insert or update on photo_ai.task
    for each row execute function photo_ai.check_task();

-- A task that goes takes its jobs along. (A trigger, not a foreign key: checking the key of
-- every job queued costs more than the queuing itself.)
drop trigger if exists forget_tasks on photo_ai.task;
create trigger forget_tasks after delete on photo_ai.task
    referencing old table as old_rows
    for each statement execute function photo_ai.forget_tasks();
