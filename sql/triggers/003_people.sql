-------------------------------------------------------------------------------
-- Persons follow their faces: sums and counts kept, empty persons dropped, covers renewed
-- (photo_ai.faces_moved). One trigger per event: a trigger with transition tables follows
-- one event only.
select photo_ai.attach_trigger('photo_ai', 'face', 'persons_of_new_faces', 'insert', 'faces_moved',
    'photo_ai: adds new faces that come with a person to its sum and count.');
select photo_ai.attach_trigger('photo_ai', 'face', 'persons_of_moved_faces', 'update', 'faces_moved',
    'photo_ai: moves faces'' embeddings from the sums of the persons they left to those they joined.');
select photo_ai.attach_trigger('photo_ai', 'face', 'persons_of_deleted_faces', 'delete', 'faces_moved',
    'photo_ai: takes deleted faces out of their persons; a person with no face left goes.');
