CREATE TABLE nodes (
    id {{identity}},
    uuid TEXT NOT NULL UNIQUE,
    name TEXT UNIQUE,
    driver TEXT NOT NULL,
    resource_class TEXT,
    provision_state TEXT NOT NULL,
    target_provision_state TEXT,
    power_state TEXT,
    target_power_state TEXT,
    maintenance BIGINT NOT NULL DEFAULT 0,
    maintenance_reason TEXT,
    instance_uuid TEXT UNIQUE,
    allocation_id BIGINT,
    owner TEXT,
    lessee TEXT,
    properties TEXT NOT NULL,
    extra TEXT NOT NULL,
    instance_info TEXT NOT NULL,
    driver_info TEXT NOT NULL,
    attrs TEXT NOT NULL,
    last_error TEXT,
    provision_updated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX nodes_resource_class ON nodes (resource_class);
CREATE TABLE node_traits (
    node_id BIGINT NOT NULL REFERENCES nodes (id),
    trait TEXT NOT NULL,
    PRIMARY KEY (node_id, trait)
);
CREATE TABLE node_allocations (
    id {{identity}},
    uuid TEXT NOT NULL UNIQUE,
    name TEXT UNIQUE,
    node_id BIGINT,
    state TEXT NOT NULL,
    last_error TEXT,
    resource_class TEXT NOT NULL,
    traits TEXT NOT NULL,
    candidate_nodes TEXT NOT NULL,
    extra TEXT NOT NULL,
    owner TEXT,
    worker TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT
);
CREATE INDEX node_allocations_state ON node_allocations (state, lease_until);
CREATE INDEX node_allocations_node ON node_allocations (node_id);
