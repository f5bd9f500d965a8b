-- +goose Up
-- User data. None of it is ever exported: it belongs to people, not to a course.

CREATE TABLE users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email       text NOT NULL UNIQUE,
    full_name   text NOT NULL DEFAULT '',
    role        text NOT NULL DEFAULT 'ALUNO' CHECK (role IN ('ALUNO', 'GESTOR', 'ADMIN')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Progress and attempts go with the user and with the content they refer to.
CREATE TABLE lesson_progress (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    lesson_id     uuid NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    watched_seconds integer NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
    completed_at  timestamptz,
    notes         text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, lesson_id)
);
CREATE INDEX lesson_progress_lesson_idx ON lesson_progress (lesson_id);

CREATE TABLE quiz_attempts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    quiz_id     uuid NOT NULL REFERENCES quizzes (id) ON DELETE CASCADE,
    score       integer NOT NULL CHECK (score BETWEEN 0 AND 100),
    answers     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quiz_attempts_user_idx ON quiz_attempts (user_id);
CREATE INDEX quiz_attempts_quiz_idx ON quiz_attempts (quiz_id);

-- Certificates are records issued to people: RESTRICT keeps a course or user with
-- issued certificates from being deleted by accident.
CREATE TABLE certificates (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id            uuid NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
    course_id          uuid NOT NULL REFERENCES courses (id) ON DELETE RESTRICT,
    verification_code  text NOT NULL UNIQUE,
    issued_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificates_course_idx ON certificates (course_id);

-- A ticket outlives the course it was about.
CREATE TABLE support_tickets (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id   uuid REFERENCES courses (id) ON DELETE SET NULL,
    subject     text NOT NULL,
    body        text NOT NULL DEFAULT '',
    status      text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'IN_PROGRESS', 'CLOSED')),
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX support_tickets_course_idx ON support_tickets (course_id);

CREATE TABLE assignments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    course_id    uuid NOT NULL REFERENCES courses (id) ON DELETE CASCADE,
    assigned_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    due_at       timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (user_id, course_id)
);
CREATE INDEX assignments_course_idx ON assignments (course_id);

-- Audit rows keep the actor as text (a token subject) so they survive user deletion.
CREATE TABLE audit_logs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    actor_id     text NOT NULL,
    actor_email  text,
    action       text NOT NULL,
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    details      jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_logs_created_idx ON audit_logs (created_at);

-- +goose Down
DROP TABLE audit_logs;
DROP TABLE assignments;
DROP TABLE support_tickets;
DROP TABLE certificates;
DROP TABLE quiz_attempts;
DROP TABLE lesson_progress;
DROP TABLE users;
