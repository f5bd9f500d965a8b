-- +goose Up
-- Transferable course content. Every content table carries external_id (the id the
-- row had in the file it was imported from) and import_batch_id (null for rows
-- created natively). Positions are 1-based and unique within their parent.

CREATE TABLE import_batches (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    actor_id         text NOT NULL,
    actor_email      text,
    file_digest      text NOT NULL CHECK (file_digest ~ '^[0-9a-f]{64}$'),
    counts           jsonb NOT NULL DEFAULT '{}'::jsonb,
    idempotency_key  text UNIQUE,
    course_id        uuid,
    result           jsonb
);
CREATE INDEX import_batches_file_digest_idx ON import_batches (file_digest);

CREATE TABLE courses (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            text NOT NULL CHECK (btrim(title) <> ''),
    description      text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'DRAFT' CHECK (status IN ('DRAFT', 'PUBLISHED', 'ARCHIVED')),
    external_id      text,
    -- SET NULL: forgetting a batch record must never delete a course.
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX courses_title_idx ON courses (title, id);
CREATE INDEX courses_import_batch_idx ON courses (import_batch_id) WHERE import_batch_id IS NOT NULL;

ALTER TABLE import_batches
    ADD CONSTRAINT import_batches_course_fk FOREIGN KEY (course_id) REFERENCES courses (id) ON DELETE SET NULL;

-- Content below a course is part of it: deleting a course deletes its content (CASCADE).
CREATE TABLE modules (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id        uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    title            text NOT NULL CHECK (btrim(title) <> ''),
    description      text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, position)
);

CREATE TABLE lessons (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    module_id          uuid NOT NULL REFERENCES modules (id) ON DELETE CASCADE,
    position           integer NOT NULL CHECK (position >= 1),
    title              text NOT NULL CHECK (btrim(title) <> ''),
    video_url          text NOT NULL DEFAULT '',
    video_provider     text NOT NULL DEFAULT 'UNSPECIFIED'
                       CHECK (video_provider IN ('UNSPECIFIED', 'YOUTUBE', 'VIMEO', 'PANDA', 'SUPABASE_STORAGE', 'OTHER')),
    duration_seconds   integer NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    practical_summary  text NOT NULL DEFAULT '',
    checklist          text[] NOT NULL DEFAULT '{}',
    external_id        text,
    import_batch_id    uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (module_id, position)
);

-- A quiz belongs to exactly one module or one lesson.
CREATE TABLE quizzes (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    module_id        uuid REFERENCES modules (id) ON DELETE CASCADE,
    lesson_id        uuid REFERENCES lessons (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    title            text NOT NULL CHECK (btrim(title) <> ''),
    min_score        integer NOT NULL DEFAULT 70 CHECK (min_score BETWEEN 0 AND 100),
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((module_id IS NULL) <> (lesson_id IS NULL))
);
CREATE UNIQUE INDEX quizzes_module_position_key ON quizzes (module_id, position) WHERE module_id IS NOT NULL;
CREATE UNIQUE INDEX quizzes_lesson_position_key ON quizzes (lesson_id, position) WHERE lesson_id IS NOT NULL;

CREATE TABLE quiz_questions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    quiz_id          uuid NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    type             text NOT NULL CHECK (type IN ('SINGLE_CHOICE', 'MULTIPLE_CHOICE', 'TRUE_FALSE')),
    text             text NOT NULL CHECK (btrim(text) <> ''),
    explanation      text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    UNIQUE (quiz_id, position)
);

CREATE TABLE quiz_options (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id      uuid NOT NULL REFERENCES quiz_questions (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    text             text NOT NULL CHECK (btrim(text) <> ''),
    is_correct       boolean NOT NULL DEFAULT false,
    feedback         text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    UNIQUE (question_id, position)
);

-- Competencies are organisation-wide and shared between courses: they are matched
-- across environments by code.
CREATE TABLE competencies (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code             text NOT NULL UNIQUE CHECK (btrim(code) <> ''),
    name             text NOT NULL CHECK (btrim(name) <> ''),
    description      text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- RESTRICT on competency: a competency still taught by a lesson cannot vanish.
CREATE TABLE lesson_competencies (
    lesson_id        uuid NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    competency_id    uuid NOT NULL REFERENCES competencies (id) ON DELETE RESTRICT,
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    PRIMARY KEY (lesson_id, competency_id)
);
CREATE INDEX lesson_competencies_competency_idx ON lesson_competencies (competency_id);

CREATE TABLE bank_questions (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    competency_id    uuid NOT NULL REFERENCES competencies (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    type             text NOT NULL CHECK (type IN ('SINGLE_CHOICE', 'MULTIPLE_CHOICE', 'TRUE_FALSE')),
    text             text NOT NULL CHECK (btrim(text) <> ''),
    explanation      text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (competency_id, position)
);

CREATE TABLE bank_options (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    question_id      uuid NOT NULL REFERENCES bank_questions (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    text             text NOT NULL CHECK (btrim(text) <> ''),
    is_correct       boolean NOT NULL DEFAULT false,
    feedback         text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    UNIQUE (question_id, position)
);

CREATE TABLE course_faqs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    course_id        uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 1),
    question         text NOT NULL CHECK (btrim(question) <> ''),
    answer           text NOT NULL DEFAULT '',
    external_id      text,
    import_batch_id  uuid REFERENCES import_batches (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (course_id, position)
);

-- +goose Down
DROP TABLE course_faqs;
DROP TABLE bank_options;
DROP TABLE bank_questions;
DROP TABLE lesson_competencies;
DROP TABLE competencies;
DROP TABLE quiz_options;
DROP TABLE quiz_questions;
DROP TABLE quizzes;
DROP TABLE lessons;
DROP TABLE modules;
ALTER TABLE import_batches DROP CONSTRAINT import_batches_course_fk;
DROP TABLE courses;
DROP TABLE import_batches;
