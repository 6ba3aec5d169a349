CREATE TABLE meta (
    id BIGINT PRIMARY KEY,
    revision BIGINT NOT NULL,
    oldest_change BIGINT NOT NULL
);
INSERT INTO meta (id, revision, oldest_change) VALUES (1, 0, 0);
CREATE TABLE changes (
    revision BIGINT NOT NULL,
    provider_id BIGINT NOT NULL
);
CREATE INDEX changes_revision ON changes (revision);
CREATE TABLE resource_classes (
    id BIGINT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE traits (
    id {{identity}},
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE TABLE resource_providers (
    id {{identity}},
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    generation BIGINT NOT NULL DEFAULT 0,
    parent_id BIGINT REFERENCES resource_providers (id),
    root_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX resource_providers_parent ON resource_providers (parent_id);
CREATE INDEX resource_providers_root ON resource_providers (root_id);
CREATE TABLE inventories (
    provider_id BIGINT NOT NULL REFERENCES resource_providers (id),
    resource_class_id BIGINT NOT NULL REFERENCES resource_classes (id),
    total BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    min_unit BIGINT NOT NULL,
    max_unit BIGINT NOT NULL,
    step_size BIGINT NOT NULL,
    allocation_ratio DOUBLE PRECISION NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT,
    PRIMARY KEY (provider_id, resource_class_id)
);
CREATE INDEX inventories_class ON inventories (resource_class_id);
CREATE TABLE provider_traits (
    provider_id BIGINT NOT NULL REFERENCES resource_providers (id),
    trait_id BIGINT NOT NULL REFERENCES traits (id),
    PRIMARY KEY (provider_id, trait_id)
);
CREATE INDEX provider_traits_trait ON provider_traits (trait_id);
CREATE TABLE aggregates (
    id {{identity}},
    uuid TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE provider_aggregates (
    provider_id BIGINT NOT NULL REFERENCES resource_providers (id),
    aggregate_id BIGINT NOT NULL REFERENCES aggregates (id),
    PRIMARY KEY (provider_id, aggregate_id)
);
CREATE INDEX provider_aggregates_aggregate ON provider_aggregates (aggregate_id);
CREATE TABLE projects (
    id {{identity}},
    external_id TEXT NOT NULL UNIQUE
);
CREATE TABLE users (
    id {{identity}},
    external_id TEXT NOT NULL UNIQUE
);
CREATE TABLE consumer_types (
    id {{identity}},
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
CREATE TABLE consumers (
    id {{identity}},
    uuid TEXT NOT NULL UNIQUE,
    project_id BIGINT NOT NULL REFERENCES projects (id),
    user_id BIGINT NOT NULL REFERENCES users (id),
    consumer_type_id BIGINT REFERENCES consumer_types (id),
    generation BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX consumers_project_user ON consumers (project_id, user_id);
CREATE TABLE allocations (
    id {{identity}},
    provider_id BIGINT NOT NULL REFERENCES resource_providers (id),
    consumer_id BIGINT NOT NULL REFERENCES consumers (id),
    resource_class_id BIGINT NOT NULL REFERENCES resource_classes (id),
    used BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX allocations_consumer ON allocations (consumer_id);
CREATE INDEX allocations_provider_class ON allocations (provider_id, resource_class_id);
