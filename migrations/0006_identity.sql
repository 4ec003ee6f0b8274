-- The built-in Keystone-v3 identity subset: projects, users, roles, role assignments and issued tokens.
-- One domain exists, 'default'. Ids are 32 lowercase hex characters, as Keystone's. Passwords are stored only as
-- salted PBKDF2 hashes, tokens only as the SHA-256 of the token.
CREATE TABLE identity_projects (
    id          text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
    domain_id   text        NOT NULL DEFAULT 'default' CHECK (domain_id = 'default'),
    description text        NOT NULL DEFAULT '',
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain_id, name)
);

CREATE TABLE identity_users (
    id                 text        PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    name               text        NOT NULL CHECK (length(name) BETWEEN 1 AND 255),
    domain_id          text        NOT NULL DEFAULT 'default' CHECK (domain_id = 'default'),
    password_hash      text        NOT NULL CHECK (password_hash LIKE 'pbkdf2-sha256$%'),
    default_project_id text        REFERENCES identity_projects (id) ON DELETE SET NULL,
    enabled            boolean     NOT NULL DEFAULT true,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (domain_id, name)
);

CREATE TABLE identity_roles (
    id   text PRIMARY KEY CHECK (id ~ '^[0-9a-f]{32}$'),
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 255)
);

INSERT INTO identity_roles (id, name) VALUES
    (md5('cellar-role:admin'), 'admin'),
    (md5('cellar-role:member'), 'member'),
    (md5('cellar-role:reader'), 'reader');

CREATE TABLE identity_role_assignments (
    user_id    text NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    project_id text NOT NULL REFERENCES identity_projects (id) ON DELETE CASCADE,
    role_id    text NOT NULL REFERENCES identity_roles (id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, project_id, role_id)
);

CREATE INDEX identity_role_assignments_project ON identity_role_assignments (project_id);

CREATE TABLE identity_tokens (
    token_hash text        PRIMARY KEY CHECK (token_hash ~ '^[0-9a-f]{64}$'),
    user_id    text        NOT NULL REFERENCES identity_users (id) ON DELETE CASCADE,
    project_id text        NOT NULL REFERENCES identity_projects (id) ON DELETE CASCADE,
    roles      text[]      NOT NULL,
    audit_id   text        NOT NULL,
    issued_at  timestamptz NOT NULL,
    expires_at timestamptz NOT NULL CHECK (expires_at > issued_at),
    revoked_at timestamptz
);

CREATE INDEX identity_tokens_expires_at ON identity_tokens (expires_at);
CREATE INDEX identity_tokens_user ON identity_tokens (user_id);
